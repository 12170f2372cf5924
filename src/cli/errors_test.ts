import assert from "node:assert/strict";
import * as api from "../../mod.ts";
import { errorLine, MachineryError, UsageError } from "./errors.ts";

/** Every error class mod.ts exports, with the exit code its errors get by default. */
const EXPECTED: Record<string, number> = {
  FaultlineError: 3,
  UnitError: 2,
  CacheDirError: 3,
  ToolMissingError: 3,
  BlockError: 3,
  NbdError: 3,
  NbdProtocolError: 3,
  NbdServerError: 3,
  QmpError: 3,
  FaultError: 2,
  FaultSpecError: 2,
  TraceError: 3,
  TraceFormatError: 2,
  ServiceError: 2,
  GuestImageError: 3,
  VmError: 3,
  ScenarioError: 2,
  RunError: 3,
  RunInterrupted: 130,
  ReplayError: 2,
  SweepError: 2,
  MergeError: 2,
  NetError: 3,
  CiError: 2,
  ExploreError: 2,
  HistoryError: 2,
};

Deno.test("errors: every exported error class has its exit code, and every one is listed here", () => {
  const exported = Object.entries(api).filter(([, value]) =>
    typeof value === "function" && value.prototype instanceof Error || value === api.FaultlineError
  );
  assert.deepEqual(exported.map(([name]) => name).sort(), Object.keys(EXPECTED).sort());
  for (const [name, value] of exported) {
    const ErrorClass = value as new (...args: never[]) => Error;
    const error = name === "BlockError"
      ? new api.BlockError("eio", "x")
      : new (ErrorClass as unknown as new (message: string) => Error)("x");
    assert.ok(error instanceof api.FaultlineError, `${name} is a FaultlineError`);
    assert.equal(api.exitCodeForError(error), EXPECTED[name], name);
    assert.equal(error.name, name);
  }
});

Deno.test("errors: one error may override its class's kind", () => {
  assert.equal(api.exitCodeForError(new api.NbdServerError("x", { kind: "usage" })), 2);
  assert.equal(api.exitCodeForError(new api.RunError("x", { kind: "verdict" })), 1);
  assert.equal(api.exitCodeForError(new api.GuestImageError("x", { usage: true })), 2);
  assert.equal(api.exitCodeForError(new UsageError("x")), 2);
  assert.equal(api.exitCodeForError(new MachineryError("x")), 3);
});

Deno.test("errors: anything else is an internal error, exit 3, its stack only with --debug", () => {
  const bug = new TypeError("undefined is not a function");
  assert.equal(api.exitCodeForError(bug), 3);
  assert.equal(api.exitCodeForError("a string"), 3);
  const line = errorLine(bug);
  assert.match(line, /^faultline: internal error: undefined is not a function\n/);
  assert.doesNotMatch(line, /at /);
  assert.match(errorLine(bug, { debug: true }), /TypeError: undefined is not a function\n\s+at /);
});

Deno.test("errors: a faultline error is one line, without a stack unless --debug", () => {
  const error = new api.ScenarioError("x.ts: nodes: expected at least one node");
  assert.equal(errorLine(error), "faultline: x.ts: nodes: expected at least one node");
  assert.match(errorLine(error, { debug: true }), /\n\s+at /);
});
