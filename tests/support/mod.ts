/**
 * What the tests in src/ and tests/ share, one concept a file: seeded choices,
 * byte strings, a checker of the Chrome trace event format, op and trace builders,
 * random traces, waiting for a condition, a process runner, the processes a test started, a
 * PATH without chosen programs, a scenario recorded for its replays, a trace's records by
 * kind, images (ext4 ones too) and a served fault layer, qemu-io, the client's half of the
 * NBD codec and a raw NBD client, and typed QMP commands.
 *
 * Tests in tests/ import this module. Unit tests in src/ import the one file
 * they need instead: each test module loads its own graph, and this one's
 * (a served fault layer, the NBD and QMP clients) costs every unit test a
 * share of `deno task test:unit`'s time.
 *
 * @example
 * ```ts
 * import { qemuIo, serveImage } from "./support/mod.ts"; // in tests/
 * import { opRecord } from "../../tests/support/ops.ts"; // in src/
 * ```
 *
 * @module
 */

export { ascii, concat, u32 } from "./bytes.ts";
export { chromeTraceProblems } from "./chrome_trace.ts";
export { addFile, changedBlocks, debugfsWrite, EXT4_BLOCK, mkfsExt4 } from "./ext4.ts";
export { makeImage } from "./images.ts";
export {
  decodeOptionReplyHeader,
  decodeReplyHeader,
  encodeInfoRequest,
  encodeOptionRequest,
  encodeRequest,
  type OptionReply,
  type ReplyHeader,
  type Request,
} from "./nbd_codec.ts";
export {
  CLOSE_TIMEOUT_MS,
  isPeerGone,
  RawClient,
  type Reply,
  REPLY_TIMEOUT_MS,
} from "./nbd_client.ts";
export { blockOp, opRecord } from "./ops.ts";
export { waitFor, type WaitForOptions } from "./poll.ts";
export { pathWithout } from "./path_without.ts";
export { childProcesses, isAlive } from "./processes.ts";
export { recordForReplay } from "./recorded.ts";
export { readTraceRecords } from "./trace_records.ts";
export { faultline, type Ran, run, runOk, type RunOptions } from "./process.ts";
export { qemuIo, qemuIoFailed } from "./qemu_io.ts";
export {
  type BlockDeviceInfo,
  type BlockInfo,
  cont,
  humanMonitorCommand,
  type HumanMonitorCommandArguments,
  migrate,
  type MigrateArguments,
  type MigrationInfo,
  type MigrationStats,
  type MigrationStatus,
  type QmpExecutor,
  queryBlock,
  queryMigrate,
  queryStatus,
  quit,
  type RunState,
  setLink,
  type SetLinkArguments,
  type StatusInfo,
  stop,
  systemPowerdown,
  systemReset,
} from "./qmp_commands.ts";
export { type Prng, prng, seededFill, seededStream } from "./random.ts";
export { randomTrace, type RandomTraceOptions } from "./random_trace.ts";
export { NbdTestClient, type TestReply, type TestRequest } from "./nbd_pipeline.ts";
export { type Served, serveImage, type ServeImageOptions } from "./served.ts";
export { fakeParentTrace, type FakeTrace, traceHeader } from "./traces.ts";
