-- wrk script: GET /v1/embeddings/NAME/vectors/ID for a random id from ids.lua (written by store_vs_feast.sh)
local IDS = dofile(os.getenv("IDS_LUA"))
local NAME = os.getenv("EMBEDDING_NAME") or "consumers"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(0 + 7919 * (tid or 0))
end
function request()
  return wrk.format("GET", "/v1/embeddings/" .. NAME .. "/vectors/" .. IDS[math.random(#IDS)])
end
