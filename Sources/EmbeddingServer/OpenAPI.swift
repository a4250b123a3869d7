/// The OpenAPI 3.1 description of the JSON API, served at `/openapi.json`. A test requests every
/// path and method listed here and checks the status codes and fields against it.
enum OpenAPI {
    static let document = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "embedding-store", "version": "1.0.0",
               "description": "Published embeddings: catalog, versions, vectors by id (by version, alias or as-of time), neighbours, publishing. Errors are {\"error\": {\"status\", \"reason\"}}."},
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "parameters": {
          "name": {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"}},
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 1024}},
          "version": {"name": "version", "in": "query", "schema": {"type": "string"}, "description": "A version string."},
          "alias": {"name": "alias", "in": "query", "schema": {"type": "string"}, "description": "An alias, e.g. production."},
          "as_of": {"name": "as_of", "in": "query", "schema": {"type": "string"}, "description": "ISO-8601 time or epoch seconds: the active version whose window holds it."}
        },
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["status", "reason"],
                    "properties": {"status": {"type": "integer"}, "reason": {"type": "string"}}}}},
          "Embedding": {"type": "object", "required": ["name", "entity_type", "owner", "description", "tags", "created_at"],
                        "properties": {"name": {"type": "string"}, "entity_type": {"type": "string"}, "owner": {"type": "string"},
                                       "description": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                                       "created_at": {"type": "string"}}},
          "Version": {"type": "object",
                      "required": ["embedding", "version", "created_at", "published_at", "valid_from", "dimension", "count", "algorithm",
                                   "parameters", "vectors_checksum", "ids_checksum", "lineage", "scores", "status", "path"],
                      "properties": {"embedding": {"type": "string"}, "version": {"type": "string"}, "created_at": {"type": "string"},
                                     "published_at": {"type": "string"}, "valid_from": {"type": "string"}, "valid_to": {"type": ["string", "null"]},
                                     "dimension": {"type": "integer"}, "count": {"type": "integer"}, "algorithm": {"type": "string"},
                                     "parameters": {"type": "object"}, "input_checksum": {"type": ["string", "null"]},
                                     "vectors_checksum": {"type": "string"}, "ids_checksum": {"type": "string"},
                                     "lineage": {"type": "array", "items": {"type": "object", "required": ["kind", "reference"],
                                                 "properties": {"kind": {"type": "string"}, "reference": {"type": "string"}, "checksum": {"type": ["string", "null"]}}}},
                                     "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                                     "status": {"type": "string", "enum": ["active", "deprecated"]}, "path": {"type": "string"}}},
          "Alias": {"type": "object", "required": ["alias", "version", "updated_at"],
                    "properties": {"alias": {"type": "string"}, "version": {"type": "string"}, "updated_at": {"type": "string"}}},
          "Detail": {"type": "object", "required": ["embedding", "versions", "aliases"],
                     "properties": {"embedding": {"$ref": "#/components/schemas/Embedding"},
                                    "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}},
                                    "aliases": {"type": "array", "items": {"$ref": "#/components/schemas/Alias"}}}},
          "Vector": {"type": "object", "required": ["id", "version", "vector"],
                     "properties": {"id": {"type": "string"}, "version": {"type": "string"}, "vector": {"type": "array", "items": {"type": "number"},
                                                "description": "The float32 values, each written as the shortest decimal that reads back as the same float32 (null for NaN or infinity)"}}}
        }
      },
      "paths": {
        "/v1/embeddings": {
          "get": {"summary": "List embeddings", "operationId": "listEmbeddings",
                  "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, {"name": "tag", "in": "query", "schema": {"type": "string"}},
                                 {"name": "entity_type", "in": "query", "schema": {"type": "string"}}, {"name": "owner", "in": "query", "schema": {"type": "string"}}],
                  "responses": {"200": {"description": "Matching embeddings", "content": {"application/json": {"schema": {"type": "object", "required": ["embeddings"],
                                "properties": {"embeddings": {"type": "array", "items": {"type": "object", "required": ["embedding", "version_count", "aliases"]}}}}}}}}},
          "post": {"summary": "Publish a table directory on the server's disk as a new version", "operationId": "publish", "security": [{"bearer": []}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["table", "name"],
                                   "properties": {"table": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "string"},
                                                  "valid_from": {"type": "string"}, "valid_to": {"type": "string"}, "description": {"type": "string"},
                                                  "owner": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                                                  "lineage": {"type": "array", "items": {"type": "string"}}, "aliases": {"type": "array", "items": {"type": "string"}}}}}}},
                   "responses": {"201": {"description": "Published", "content": {"application/json": {"schema": {"type": "object", "required": ["created", "version"]}}}},
                                 "200": {"description": "Same content already published (no-op)"},
                                 "400": {"description": "Bad table or request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                                 "401": {"description": "Missing or wrong token"}, "403": {"description": "Writes disabled"}, "409": {"description": "Version exists with other content"}}}
        },
        "/v1/embeddings/{name}": {
          "get": {"summary": "One embedding: versions, scores, lineage, aliases", "operationId": "getEmbedding",
                  "parameters": [{"$ref": "#/components/parameters/name"}],
                  "responses": {"200": {"description": "The embedding", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
                                "404": {"description": "No such embedding", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
        },
        "/v1/embeddings/{name}/vectors/{id}": {
          "get": {"summary": "The vector of one id", "operationId": "getVector",
                  "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}, {"$ref": "#/components/parameters/version"},
                                 {"$ref": "#/components/parameters/alias"}, {"$ref": "#/components/parameters/as_of"}],
                  "responses": {"200": {"description": "The vector", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Vector"}}}},
                                "400": {"description": "Bad name, id or selector"}, "404": {"description": "No such embedding, version or id"}}}
        },
        "/v1/embeddings/{name}/vectors": {
          "post": {"summary": "The vectors of many ids", "operationId": "getVectors",
                   "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/version"},
                                  {"$ref": "#/components/parameters/alias"}, {"$ref": "#/components/parameters/as_of"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["ids"],
                                   "properties": {"ids": {"type": "array", "maxItems": 10000, "items": {"type": "string"}}}}}}},
                   "responses": {"200": {"description": "Vectors found, ids missing", "content": {"application/json": {"schema": {"type": "object",
                                 "required": ["version", "vectors", "missing"], "properties": {"version": {"type": "string"},
                                 "vectors": {"type": "array", "items": {"$ref": "#/components/schemas/Vector"}}, "missing": {"type": "array", "items": {"type": "string"}}}}}}},
                                 "400": {"description": "Malformed body or a bad id: the reason names the problem and its byte offset"}, "413": {"description": "Too many ids or too large a body"}}}
        },
        "/v1/embeddings/{name}/neighbors/{id}": {
          "get": {"summary": "The k most cosine-similar ids", "operationId": "getNeighbors",
                  "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"},
                                 {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}},
                                 {"$ref": "#/components/parameters/version"}, {"$ref": "#/components/parameters/alias"}, {"$ref": "#/components/parameters/as_of"}],
                  "responses": {"200": {"description": "Neighbours, best first", "content": {"application/json": {"schema": {"type": "object",
                                "required": ["id", "version", "k", "method", "neighbors"], "properties": {"id": {"type": "string"}, "version": {"type": "string"},
                                "k": {"type": "integer"}, "method": {"type": "string"}, "neighbors": {"type": "array", "items": {"type": "object",
                                "required": ["id", "similarity"], "properties": {"id": {"type": "string"}, "similarity": {"type": "number"}}}}}}}}},
                                "400": {"description": "Bad k"}, "404": {"description": "No such id"}}}
        },
        "/v1/embeddings/{name}/aliases/{alias}": {
          "put": {"summary": "Point an alias at a version (atomic)", "operationId": "setAlias", "security": [{"bearer": []}],
                  "parameters": [{"$ref": "#/components/parameters/name"}, {"name": "alias", "in": "path", "required": true, "schema": {"type": "string"}}],
                  "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}}}}},
                  "responses": {"200": {"description": "The aliases now", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Alias"}}}}},
                                "401": {"description": "Missing or wrong token"}, "404": {"description": "No such version"}}},
          "delete": {"summary": "Remove an alias", "operationId": "removeAlias", "security": [{"bearer": []}],
                     "parameters": [{"$ref": "#/components/parameters/name"}, {"name": "alias", "in": "path", "required": true, "schema": {"type": "string"}}],
                     "responses": {"200": {"description": "The aliases now", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Alias"}}}}},
                                   "401": {"description": "Missing or wrong token"}, "404": {"description": "No such alias"}}}
        },
        "/v1/embeddings/{name}/versions/{version}/status": {
          "put": {"summary": "Deprecate a version (or make it active again)", "operationId": "setStatus", "security": [{"bearer": []}],
                  "parameters": [{"$ref": "#/components/parameters/name"}, {"name": "version", "in": "path", "required": true, "schema": {"type": "string"}}],
                  "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["status"],
                                  "properties": {"status": {"type": "string", "enum": ["active", "deprecated"]}}}}}},
                  "responses": {"200": {"description": "The version", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Version"}}}},
                                "401": {"description": "Missing or wrong token"}, "404": {"description": "No such version"}}}
        },
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/healthz": {"get": {"summary": "Liveness", "operationId": "health", "responses": {"200": {"description": "ok"}}}}
      }
    }
    """#
}
