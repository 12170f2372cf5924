import assert from "node:assert/strict";
import type { z } from "zod";
import { IMAGE_PATHS, RESULTS_DISK_NAME } from "../scenario/guest_rules.ts";
import { GuestImageError } from "./guest_image_error.ts";
import { type InitramfsOptions, PHASE_DIR, REPORT_PATH, REPORT_STATE_DIR } from "./initramfs.ts";
import {
  initramfsOptionProblems,
  type initramfsOptionsSchema,
  validateInitramfsOptions,
} from "./initramfs_options.ts";
import { RESULTS_SERIAL } from "./results.ts";

/** True when two types are the same. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

Deno.test("initramfs options: the schema knows every option the interface documents", () => {
  // Type-checked: this line does not compile when an option is added to one and not the other.
  const same: Same<keyof InitramfsOptions, keyof z.input<typeof initramfsOptionsSchema>> = true;
  assert.equal(same, true);
});

Deno.test("initramfs options: the image's paths and the results disk are the rules' own", () => {
  assert.equal(RESULTS_SERIAL, RESULTS_DISK_NAME);
  assert.equal(REPORT_PATH, IMAGE_PATHS.report);
  assert.equal(REPORT_STATE_DIR, IMAGE_PATHS.reportState);
  assert.ok(PHASE_DIR.startsWith(`${IMAGE_PATHS.faultline}/`));
});

Deno.test("initramfs options: every problem is a line of its own, naming its field", () => {
  const options = {
    phases: { run: "true" },
    disks: [{ name: "Data", mountpoint: "/proc" }],
    env: { FAULTLINE_NODE: "x" },
  };
  const lines = initramfsOptionProblems(options);
  assert.deepEqual(lines.map((line) => line.slice(0, line.indexOf(":"))), [
    "initramfs option disks[0].name",
    "initramfs option disks[0].mountpoint",
    "initramfs option env.FAULTLINE_NODE",
  ]);
  assert.throws(
    () => validateInitramfsOptions(options as InitramfsOptions),
    (e: unknown) =>
      e instanceof GuestImageError && e.usage && e.kind === "usage" &&
      e.message === lines.join("\n"),
  );
  assert.deepEqual(initramfsOptionProblems({ phases: { run: "true" } }), []);
});
