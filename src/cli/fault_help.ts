/**
 * The fault part of `--help`, read from the fault-kind table (src/fault/kinds/mod.ts):
 * each family's kinds, the triggers, and one example of every kind.
 *
 * @module
 */

import type { Family } from "../fault/kinds/kind.ts";
import { FAULT_KINDS, namesOf } from "../fault/kinds/mod.ts";

const WIDTH = 100;
const INDENT = "            ";

/** Words joined into lines of at most {@link WIDTH} columns, each after `indent`. */
function wrap(words: readonly string[], indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && indent.length + line.length + 3 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line}   ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.join(`\n${indent}`);
}

const list = (...families: Family[]) => namesOf(...families).join(", ");

/** The text after a command's help wherever faults are given. */
export const FAULT_HELP = `
Fault specs (one grammar everywhere; see docs/fault-spec.md):
  KIND[:PARAMS][@TRIGGER]
  disks:    ${list("block", "machine")}
  links:    ${list("link")} (clusters; link=A->B, A<->B, NODE or *)
  nodes:    ${list("node")}
  triggers: 17 (op 17: recorded op 17 in a replay), +2s (time since start),
            [[NODE/]DISK/]TYPE[:START-END|:OFFSET+LENGTH][#K] (the K-th matching op),
            net[:LINK/PROTO[:PORT]/FLAGS][#K] (frames; link and node faults)
  examples: ${wrap(FAULT_KINDS.flatMap((kind) => kind.examples.slice(0, 1)), INDENT)}`;
