import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { assertSafeBranchName, branchName } from "../../src/git/branch-name.ts";

/** git's own verdict: the normalised name, or throws when git rejects it. */
function checkRefFormat(branch: string): string {
  return execFileSync("git", ["check-ref-format", "--branch", branch], { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } }).trim();
}

describe("branchName", () => {
  it("joins the lower-cased slug and a short form of the title", () => {
    expect(branchName("POS-123", "Fix the login redirect on Safari")).toBe("tasks/pos-123-fix-the-login-redirect-on-safari");
    expect(branchName("POS-7", "Crème brûlée: ÉCLAIR support")).toBe("tasks/pos-7-creme-brulee-eclair-support");
    expect(branchName("POS-8", "A very long title that goes on and on well past forty characters")).toBe("tasks/pos-8-a-very-long-title-that-goes-on-and-on");
    expect(branchName("POS-9", "日本語だけ")).toBe("tasks/pos-9");
  });

  const hostileTitles = [
    "$(id)",
    "`rm -rf /`",
    '";echo pwned;#',
    "line one\nline two\r\nthree",
    "full\u3000width\u3000space",
    "../../etc/passwd",
    "..",
    "@{-1}",
    "@",
    "topic.lock",
    "ends with dot.",
    "trailing slash/",
    "-leading-dash",
    "colon:caret^tilde~question?star*[bracket]\\backslash",
    "HEAD",
    "refs/heads/main",
    "\u0000nul\u0007bell\u007fdel",
    "emoji 🚀 rocket",
    "--upload-pack=touch /tmp/pwned",
    "a".repeat(500),
    "",
  ];

  it.each(hostileTitles)("turns the hostile title %j into a valid, inert ref", (title) => {
    const name = branchName("POS-123", title);
    expect(name).toMatch(/^tasks\/pos-123(-[a-z0-9]+)*$/);
    expect(name.length).toBeLessThanOrEqual("tasks/pos-123-".length + 40);
    expect(checkRefFormat(name)).toBe(name);
    expect(() => assertSafeBranchName(name)).not.toThrow();
  });

  it("refuses a slug that leaves nothing", () => {
    expect(() => branchName("$()", "title")).toThrow(/slug/);
  });
});

describe("assertSafeBranchName", () => {
  it.each(["a..b", "-x", "x.lock", "x/.hidden", "refs/heads/x", "HEAD", "a:b", "+x", "x y", "x/", "a//b", "x.", "", "a@{1}"])("refuses %j", (branch) => {
    expect(() => assertSafeBranchName(branch)).toThrow(/unsafe branch name/);
  });

  it("accepts ordinary names", () => {
    for (const branch of ["main", "release/1.2", "tasks/pos-1-fix", "feature_x"]) expect(() => assertSafeBranchName(branch)).not.toThrow();
  });
});
