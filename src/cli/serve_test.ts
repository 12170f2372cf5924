import assert from "node:assert/strict";
import { parseServeFaults } from "./serve.ts";

Deno.test("serve: a fault whose trigger names a disk or node that is not served is refused, naming what is", () => {
  const served = { disks: ["vda"], node: "serve" };
  assert.throws(
    () => parseServeFaults(["fail@vdb/any#100"], served),
    /--fault fail@vdb\/any#100: no disk vdb \(serve serves vda\)/,
  );
  assert.throws(
    () => parseServeFaults(["eio@n1/vda/write"], served),
    /no node n1 \(serve's node is serve: --node NAME\)/,
  );
  assert.equal(parseServeFaults(["fail@vda/any#100"], served)[0].spec, "fail@vda/any#100");
  assert.equal(parseServeFaults(["eio@serve/vda/write", "eio@17"], served).length, 2);
  assert.throws(() => parseServeFaults(["power-loss@3"], served), /needs record or replay/);
});
