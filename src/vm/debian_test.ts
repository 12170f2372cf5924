import assert from "node:assert/strict";
import { ToolMissingError } from "../util/host_command.ts";
import { runTool } from "./_command.ts";
import {
  debianCandidate,
  GuestImageError,
  parseControlStanza,
  parseDepends,
  resolveMetapackage,
} from "./debian.ts";
import { KERNEL_METAPACKAGE, KERNEL_PACKAGE_PATTERN } from "./kernel.ts";

Deno.test("debian: control stanzas with continuation lines; only the first stanza", () => {
  const fields = parseControlStanza(
    "Package: a\nVersion: 1:2.3-4\nDepends: b (>= 1),\n c\nDescription: x\n y\n\nPackage: z\n",
  );
  assert.equal(fields.get("Package"), "a");
  assert.equal(fields.get("Version"), "1:2.3-4");
  assert.equal(fields.get("Depends"), "b (>= 1),\nc");
  assert.equal(fields.size, 4);
});

Deno.test("debian: Depends keeps package names, grouped by alternatives", () => {
  assert.deepEqual(parseDepends("linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"), [[
    "linux-image-6.1.0-56-cloud-amd64",
  ]]);
  assert.deepEqual(parseDepends("a (= 1), b | c:any,\n d [amd64], "), [["a"], ["b", "c"], ["d"]]);
  assert.deepEqual(parseDepends(""), []);
});

Deno.test("debian: the cloud kernel metapackage names exactly one ABI package", async () => {
  const ref = await resolveMetapackage(KERNEL_METAPACKAGE, KERNEL_PACKAGE_PATTERN);
  assert.match(ref.name, /^linux-image-\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  const candidate = await debianCandidate(ref.name);
  assert.deepEqual(ref, {
    name: candidate.name,
    version: candidate.version,
    architecture: candidate.architecture,
  });
  assert.equal(candidate.architecture, "amd64");
});

Deno.test("debian: an unknown package says to run apt-get update", async () => {
  const error = await debianCandidate("faultline-no-such-package").then(
    () => assert.fail("expected an error"),
    (e) => e,
  );
  assert.ok(error instanceof GuestImageError);
  assert.match(error.message, /faultline-no-such-package/);
  assert.match(error.message, /run `apt-get update` as root/);
  assert.deepEqual(error.command, [
    "apt-cache",
    "show",
    "--no-all-versions",
    "faultline-no-such-package",
  ]);
  await assert.rejects(
    resolveMetapackage("busybox-static", /^linux-image-/),
    /expected exactly one dependency of "busybox-static"/,
  );
  await assert.rejects(debianCandidate("Bad Name"), (e: GuestImageError) => e.usage);
});

Deno.test("debian: a missing tool is named, with how to get it", async () => {
  await assert.rejects(
    runTool("faultline-no-such-tool", []),
    (e: ToolMissingError) =>
      e instanceof ToolMissingError &&
      /faultline-no-such-tool is not installed \(not found on PATH\)/.test(e.message),
  );
  await assert.rejects(
    runTool("xz", ["--definitely-not-an-option"]),
    /`xz --definitely-not-an-option` failed \(exit 1\)/,
  );
});
