/**
 * What the tests in src/ and tests/ share, one concept a file: seeded choices,
 * byte strings, op and trace builders, waiting for a condition, a process
 * runner, images and a served fault layer, qemu-io.
 *
 * @example
 * ```ts
 * import { opRecord, prng } from "../../tests/support/mod.ts";
 * ```
 *
 * @module
 */

export { ascii, concat, u32 } from "./bytes.ts";
export { makeImage } from "./images.ts";
export { blockOp, opRecord } from "./ops.ts";
export { waitFor, type WaitForOptions } from "./poll.ts";
export { faultline, type Ran, run, runOk, type RunOptions } from "./process.ts";
export { qemuIo, qemuIoFailed } from "./qemu_io.ts";
export { type Prng, prng, seededFill, seededStream } from "./random.ts";
export { type Served, serveImage, type ServeImageOptions } from "./served.ts";
export { fakeParentTrace, type FakeTrace, traceHeader } from "./traces.ts";
