import assert from "node:assert/strict";
import { ESSENTIAL_PACKAGES, parseSimulation, resolutionProblem } from "./package_resolve.ts";

Deno.test("package resolution: the Inst lines of a simulation, sorted by name, with version and architecture", () => {
  const stdout = [
    "NOTE: This is only a simulation!",
    "Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) []",
    "Inst libllvm14 (1:14.0.6-12 Debian:12.15/oldstable [amd64])",
    "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u2 Debian-Security:12/oldstable-security [all])",
    "Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])",
    "",
  ].join("\n");
  assert.deepEqual(parseSimulation(stdout), [
    { name: "libc6", version: "2.36-9+deb12u14", architecture: "amd64" },
    { name: "libllvm14", version: "1:14.0.6-12", architecture: "amd64" },
    { name: "tzdata", version: "2025b-0+deb12u2", architecture: "all" },
  ]);
});

Deno.test("package resolution: an unknown package, a virtual one and a conflict each name the package", () => {
  assert.deepEqual(resolutionProblem("", "E: Unable to locate package postgresql-99\n"), {
    package: "postgresql-99",
    message: 'apt knows no Debian package "postgresql-99"',
    usage: true,
  });
  const virtual = resolutionProblem(
    "Package mail-transport-agent is a virtual package provided by:\n" +
      "  exim4-daemon-light 4.96-15+deb12u11\n  postfix 3.7.11-0+deb12u1\n\n",
    "E: Package 'mail-transport-agent' has no installation candidate\n",
  );
  assert.equal(virtual?.package, "mail-transport-agent");
  assert.match(virtual!.message, /virtual: name one of exim4-daemon-light, postfix\)$/);
  const conflict = resolutionProblem(
    "The following packages have unmet dependencies:\n" +
      " exim4-config : Conflicts: postfix but 3.7.11-0+deb12u1 is to be installed\n" +
      " postfix : Conflicts: mail-transport-agent\n",
    "E: Unable to correct problems, you have held broken packages.\n",
  );
  assert.equal(conflict?.package, "exim4-config");
  assert.match(conflict!.message, /Conflicts: postfix but 3\.7\.11-0\+deb12u1 is to be installed$/);
  assert.equal(resolutionProblem("", "E: Something else\n"), null);
});

Deno.test("package resolution: the essential set has a /bin/sh and coreutils, sorted", () => {
  assert.ok(ESSENTIAL_PACKAGES.includes("dash"));
  assert.ok(ESSENTIAL_PACKAGES.includes("coreutils"));
  assert.deepEqual([...ESSENTIAL_PACKAGES].sort(), ESSENTIAL_PACKAGES);
});
