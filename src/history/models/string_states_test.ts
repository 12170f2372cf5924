import assert from "node:assert/strict";
import { fingerprint, StringStates } from "./string_states.ts";

Deno.test("string states: one number per string, however it was made", () => {
  const states = new StringStates();
  const empty = states.of("");
  const a = states.append(empty, "a", fingerprint("a"));
  const ab = states.append(a, "b", fingerprint("b"));
  assert.equal(states.of("ab"), ab, 'put or read "ab" is the state two appends made');
  assert.equal(states.append(states.of("a"), "b", fingerprint("b")), ab);
  assert.notEqual(states.append(states.of("b"), "a", fingerprint("a")), ab, '"ba" is not "ab"');
  assert.equal(states.text(ab), "ab");
  assert.equal(
    states.of("x".repeat(1000) + "y"),
    states.append(states.of("x".repeat(1000)), "y", fingerprint("y")),
  );
});

Deno.test("string states: a long chain of appends is the string it spells", () => {
  const states = new StringStates();
  let state = states.of("");
  let text = "";
  for (let i = 0; i < 500; i++) {
    const suffix = `x ${i} y`;
    state = states.append(state, suffix, fingerprint(suffix));
    text += suffix;
  }
  assert.equal(states.text(state), text);
  assert.equal(states.of(text), state);
  // Strings that differ only in a character's place, or by a character that adds 0, differ.
  assert.notEqual(states.of("abc"), states.of("acb"));
  assert.notEqual(states.of("\u0000"), states.of(""));
});
