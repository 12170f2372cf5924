import assert from "node:assert/strict";
import { alternativesIn, chooseAlternatives } from "./_alternatives.ts";

Deno.test("alternatives: literal update-alternatives --install calls, continuation lines joined, slaves left out", () => {
  const postinst = [
    "#!/bin/sh",
    "set -e",
    'if [ "$1" = configure ]; then',
    "\tupdate-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\",
    "\t\t--slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz",
    '  update-alternatives --install "$link" x /usr/bin/y 10',
    "  update-alternatives --quiet --install /usr/bin/pager pager /bin/more 50",
    "  update-alternatives --remove awk /usr/bin/nawk",
    "fi",
  ].join("\n");
  assert.deepEqual(alternativesIn(postinst), [
    { link: "/usr/bin/awk", name: "awk", path: "/usr/bin/mawk", priority: 5 },
    { link: "/usr/bin/pager", name: "pager", path: "/bin/more", priority: 50 },
  ]);
});

Deno.test("alternatives: the highest priority wins, the first on a tie; sorted by name", () => {
  const chosen = chooseAlternatives([
    { link: "/usr/bin/pager", name: "pager", path: "/bin/more", priority: 50 },
    { link: "/usr/bin/awk", name: "awk", path: "/usr/bin/mawk", priority: 5 },
    { link: "/usr/bin/pager", name: "pager", path: "/usr/bin/less", priority: 77 },
    { link: "/usr/bin/awk", name: "awk", path: "/usr/bin/gawk", priority: 5 },
  ]);
  assert.deepEqual(chosen.map((a) => a.path), ["/usr/bin/mawk", "/usr/bin/less"]);
});
