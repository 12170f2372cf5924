import assert from "node:assert/strict";
import { controlCommand, describeDone, faultAction } from "./fault.ts";

/** The line `fault SOCKET ACTION ARGS...` prints once the server has answered `{}`. */
function done(action: string, args: string[], count?: number): string | null {
  const request = faultAction(action, args, count);
  return describeDone(request, controlCommand(request).args);
}

Deno.test("fault: a command that sets a fault says what it did, not the server's {}", () => {
  assert.equal(done("link", ["none"]), "links: every link healed");
  assert.equal(done("link", ["heal:n1<->n2"]), "links: n1<->n2 healed");
  assert.equal(done("link", ["partition:n1|n2,n3"]), "links: partition:n1|n2,n3 from now on");
  assert.equal(
    done("link", ["drop:0.3,link=n1->n2"], 10),
    "links: drop:0.3,link=n1->n2 from now on, for the next 10 frames",
  );
  assert.equal(done("set", ["vda", "delay:200ms"], 10), "vda: delay:200ms for 10 ops");
  assert.equal(done("set", ["vda", "none"]), "vda: none");
  // A query's answer is what to print.
  assert.equal(done("links", []), null);
  assert.equal(done("query", ["vda"]), null);
});
