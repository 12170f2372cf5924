import assert from "node:assert/strict";
import { guestNetworkOf, nodeAddresses, nodeMac, parseNetwork } from "./addresses.ts";
import { parseMac } from "./frame.ts";

Deno.test("addresses: stable, locally administered unicast MACs, distinct by index", () => {
  const mac = nodeMac("db1", 0);
  assert.equal(mac, nodeMac("db1", 0), "stable");
  assert.match(mac, /^02:66:6c:[0-9a-f]{2}:[0-9a-f]{2}:00$/);
  const first = parseMac(mac)[0];
  assert.equal(first & 0x02, 0x02, "locally administered");
  assert.equal(first & 0x01, 0, "unicast");
  assert.notEqual(nodeMac("db1", 0).slice(0, 14), nodeMac("db2", 0).slice(0, 14), "name hashed");
  assert.equal(nodeMac("x", 3).slice(-2), "03");
  // FNV-1a of "a" is 0xe40c292c: bytes 29 2c.
  assert.equal(nodeMac("a", 1), "02:66:6c:29:2c:01");
  assert.throws(() => nodeMac("x", 256), /not in \[0, 255\]/);
});

Deno.test("addresses: node k gets .10+k of 192.0.2.0/24 or of the network given", () => {
  const nodes = nodeAddresses(["a", "b", "c"]);
  assert.deepEqual(nodes.map((n) => [n.name, n.index, n.ip, n.prefixLength]), [
    ["a", 0, "192.0.2.10", 24],
    ["b", 1, "192.0.2.11", 24],
    ["c", 2, "192.0.2.12", 24],
  ]);
  assert.equal(new Set(nodes.map((n) => n.mac)).size, 3);
  assert.deepEqual(
    nodeAddresses(["a", "b"], { network: "10.9.0.0/16" }).map((n) => n.ip),
    ["10.9.0.10", "10.9.0.11"],
  );
  assert.deepEqual(parseNetwork("10.9.0.0/16"), { address: 0x0a090000, prefixLength: 16 });
  assert.throws(() => parseNetwork("10.9.0.1/16"), /host bits set; .* is 10\.9\.0\.0\/16/);
  assert.throws(() => parseNetwork("300.0.0.0/8"), /not an IPv4 network/);
  assert.throws(() => parseNetwork("10.0.0.0"), /not an IPv4 network/);
  assert.throws(
    () => nodeAddresses(["a", "b", "c", "d", "e", "f"], { network: "10.0.0.0/28" }),
    /room for 5 nodes .* there are 6/,
  );
  assert.throws(() => nodeAddresses(["a", "a"]), /node a is named twice/);
});

Deno.test("addresses: the guest's view of the network", () => {
  const nodes = nodeAddresses(["a", "b"]);
  assert.deepEqual(guestNetworkOf(nodes, "b"), {
    node: "b",
    mac: nodes[1].mac,
    prefixLength: 24,
    hosts: [{ name: "a", ip: "192.0.2.10" }, { name: "b", ip: "192.0.2.11" }],
  });
  assert.throws(() => guestNetworkOf(nodes, "z"), /no node z \(nodes: a, b\)/);
});
