import assert from "node:assert/strict";
import { CACHE_VERSION, cacheKey, canonicalJson, contentId, withoutFields } from "./cache_key.ts";
import { sha256Bytes } from "./hash.ts";

Deno.test("canonicalJson: keys sorted at every depth, undefined properties as absent ones", () => {
  assert.equal(
    canonicalJson({ b: [{ z: 1, y: [true, null] }, "x"], a: null, c: undefined }),
    '{"a":null,"b":[{"y":[true,null],"z":1},"x"]}',
  );
  assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  assert.equal(canonicalJson(Object.assign(Object.create(null), { "é": "\n" })), '{"é":"\\n"}');
});

Deno.test("canonicalJson refuses what has no one text: a Map, bytes, a Date, NaN, a function", () => {
  for (const value of [new Map(), new Uint8Array(1), new Date(0), NaN, Infinity, () => 1, 1n]) {
    assert.throws(() => canonicalJson({ field: value }), TypeError, String(value));
  }
});

Deno.test("cacheKey: the whole value, its kind and the cache schema version; contentId without them", () => {
  const value = { node: "db", disk: { size: 1 } };
  assert.equal(cacheKey("a", value), cacheKey("a", { disk: { size: 1 }, node: "db" }));
  assert.notEqual(cacheKey("a", value), cacheKey("b", value));
  assert.notEqual(cacheKey("a", value), cacheKey("a", { ...value, added: false }));
  assert.equal(
    cacheKey("a", value),
    contentId({ cache: CACHE_VERSION, kind: "a", value }),
  );
  assert.equal(contentId("x"), sha256Bytes(new TextEncoder().encode('"x"')));
});

Deno.test("withoutFields leaves out dotted paths and every element's field under []", () => {
  const value = { a: 1, t: { x: 1, y: 2 }, nodes: [{ w: 1, k: 2 }, { w: 3 }] };
  assert.deepEqual(withoutFields(value, ["t.x", "nodes[].w", "missing.path"]), {
    a: 1,
    t: { y: 2 },
    nodes: [{ k: 2 }, {}],
  });
  assert.deepEqual(value.nodes[0], { w: 1, k: 2 }, "the value itself is not changed");
});
