"""Reference numbers for Tests/WordEmbeddingsTests/WordBenchmarkTests.swift: runs the judge's
peer_words.evaluate (scipy.stats.spearmanr, numpy argmax) on fixed vectors and small similarity and
analogy files written to /tmp/words-ref, and prints the scores and the vectors.

    mkdir -p /tmp/words-ref/word-similarity && cd /tmp/words-ref
    $(../shared/judge/setup.sh)/bin/python .../Benchmarks/words/evaluation_reference.py
"""
import math, os, sys, json, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "judge"))
import peer_words as pw
pw.DATA = "/tmp/words-ref"
words = ["the","king","queen","man","woman","paris","france","rome","italy","big","bigger","small","smaller","zero"]
V=len(words)
base = {"the":[0,0,0,0,0,0.1],"king":[1,1,0,0,0,0],"queen":[1,-1,0,0,0,0],"man":[0,1,0,0,0,0],"woman":[0,-1,0,0,0,0],
 "paris":[0,0,1,0,0.3,0],"france":[0,0,0,1,0.3,0],"rome":[0,0,1,0,-0.3,0],"italy":[0,0,0,1,-0.3,0],
 "big":[0,0,0,0,0,1],"bigger":[0.5,0,0,0,0,1],"small":[0,0,0,0,0,-1],"smaller":[0.5,0,0,0,0,-1],"zero":[0,0,0,0,0,0]}
E = np.array([[base[w][k] + 0.3*math.sin(1.3*i+0.7*k+1) for k in range(6)] for i,w in enumerate(words)], dtype=np.float32)
E[V-1] = 0
sims = {
 "ws353": [("king","queen",8.5),("man","woman",8.3),("paris","france",7.0),("big","small",2.0),("rome","italy",7.5),("king","cabbage",1.0),("bigger","smaller",3.1),("queen","woman",6.0)],
 "simlex999": [("King","Queen",5.5),("big","bigger",7.0),("small","smaller",7.0),("the","man",1.0),("woman","italy",0.5),("paris","rome",6.5)],
 "men3k": [("king","man",30),("queen","woman",30),("paris","rome",45),("big","small",20),("zero","the",3)],
 "rw": [("king","queen",5),("man","king",5),("a","b",3)],
}
for k,v in sims.items():
    with open(f"word-similarity/{k}.tsv","w") as f:
        if k=="men3k": f.write("word1\tword2\tscore\n")
        for a,b,s in v: f.write(f"{a}\t{b}\t{s}\n")
with open("word-similarity/analogies.txt","w") as f:
    f.write(": capital-common-countries\nParis France Rome Italy\nRome Italy Paris France\nparis france rome unknownword\n")
    f.write(": family\nking queen man woman\nman woman king queen\n")
    f.write(": gram2-comparative\nbig bigger small smaller\nsmall smaller big bigger\n")
for R in (30000, 9):
    r = pw.evaluate(E, words, restrict=R)
    out = {k: r["similarity"][k]["spearman"] for k in pw.SIM_SETS}
    out.update({k+"_used": r["similarity"][k]["pairs_used"] for k in pw.SIM_SETS})
    for m in ("3CosAdd","3CosMul"):
        for part in ("overall","semantic","syntactic"):
            out[f"{m}_{part}"] = (r["analogies"][m][part]["correct"], r["analogies"][m][part]["answered"])
    print(R, json.dumps(out))
print(E.astype(np.float64).tolist())
