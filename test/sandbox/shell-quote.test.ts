import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { quoteShellArg, quoteShellCommand } from "../../src/sandbox/shell-quote.ts";

const run = promisify(execFile);

// Strings an issue or a model could put into an argument, each aimed at a different part of the shell.
const HOSTILE = [
  "$(id)",
  "`id`",
  '";echo pwned;#',
  "';echo pwned;#",
  "a\nb",
  "line\r\nbreak",
  "\u3000ideographic\u3000space",
  "it's",
  "'",
  "'''",
  "",
  " ",
  "\\",
  "\\'",
  "*",
  "?",
  "[a-z]",
  "~",
  "~root",
  "-n",
  "--help",
  "!!",
  "!$",
  "$HOME",
  "${IFS}",
  "$'\\x41'",
  "a b\tc",
  "x > /tmp/pwned",
  "| cat",
  "& whoami",
  "{a,b}",
  "#comment",
  "émoji 🎉",
  "\u0007bell\u001b[31m",
];

describe("quoteShellArg", () => {
  it("single-quotes every argument and writes a single quote as '\\''", () => {
    expect(quoteShellArg("plain")).toBe("'plain'");
    expect(quoteShellArg("")).toBe("''");
    expect(quoteShellArg("it's")).toBe("'it'\\''s'");
    expect(quoteShellArg("'")).toBe("''\\'''");
    expect(quoteShellArg("''")).toBe("''\\'''\\'''");
    expect(quoteShellArg("$(id)")).toBe("'$(id)'");
    expect(quoteShellArg("`id`")).toBe("'`id`'");
    expect(quoteShellArg('";echo pwned;#')).toBe("'\";echo pwned;#'");
    expect(quoteShellArg("a\nb")).toBe("'a\nb'");
    expect(quoteShellArg("\u3000")).toBe("'\u3000'");
    expect(quoteShellArg("\\")).toBe("'\\'");
  });

  it("refuses what cannot reach the program literally", () => {
    expect(() => quoteShellArg("a\0b")).toThrow(/NUL/);
    expect(() => quoteShellArg("\ud800")).toThrow(/surrogate/);
    expect(quoteShellArg("\ud83c\udf89")).toBe("'🎉'"); // a proper pair is fine
  });
});

describe("quoteShellCommand", () => {
  it("joins the quoted words with spaces", () => {
    expect(quoteShellCommand(["git", "commit", "-m", "fix: it's done"])).toBe("'git' 'commit' '-m' 'fix: it'\\''s done'");
  });

  it("refuses an empty argv", () => {
    expect(() => quoteShellCommand([])).toThrow(TypeError);
  });

  // The real proof: a shell reads the string back as exactly the argv, every hostile byte literal.
  for (const shell of ["/bin/sh", "/bin/bash"]) {
    it(`round-trips hostile arguments through ${shell} -c`, async () => {
      const { stdout } = await run(shell, ["-c", quoteShellCommand(["printf", "%s\\n", ...HOSTILE])], { env: { PATH: "/usr/bin:/bin" } });
      expect(stdout).toBe(HOSTILE.map((arg) => `${arg}\n`).join(""));
    });

    it(`round-trips each argument as one word through ${shell} -c (NUL-separated)`, async () => {
      const { stdout } = await run(shell, ["-c", quoteShellCommand(["printf", "%s\\0", ...HOSTILE])], { env: { PATH: "/usr/bin:/bin" } });
      expect(stdout.split("\0").slice(0, -1)).toEqual(HOSTILE);
    });
  }

  it("survives the E2B adapter's wrapper (exec setsid -w --) under bash", async () => {
    const { stdout } = await run("/bin/bash", ["-c", `exec setsid -w -- ${quoteShellCommand(["printf", "%s\\0", ...HOSTILE])}`], { env: { PATH: "/usr/bin:/bin" } });
    expect(stdout.split("\0").slice(0, -1)).toEqual(HOSTILE);
  });
});
