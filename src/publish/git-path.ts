// Git writes a path in C-style double quotes when it holds a quote, a backslash, a control
// character or (with core.quotePath, the default) any non-ASCII byte, which then arrives as
// octal escapes of its UTF-8 bytes: "tab\tq\"\303\251.txt" is `tab<TAB>q"é.txt`.
import { AppError } from "../lib/errors.ts";

const escapedBytes: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };
const quotedPiece = /\\([0-7]{1,3})|\\(.)|([^\\]+)/gsy;

/** The path a (possibly quoted) git path token names; unquoted tokens come back as they are. */
export function unquoteGitPath(token: string): string {
  if (!token.startsWith('"')) return token;
  // Git quotes any path holding a quote, so a token starting with one must be a whole quoted path.
  if (token.length < 2 || !token.endsWith('"')) {
    throw new AppError("invalid", "git_path_unreadable", `unterminated quoted git path: ${token}`);
  }
  const body = token.slice(1, -1);
  const chunks: Buffer[] = [];
  let position = 0;
  while (position < body.length) {
    quotedPiece.lastIndex = position;
    const match = quotedPiece.exec(body);
    if (!match) throw new AppError("invalid", "git_path_unreadable", `unreadable quoted git path: ${token}`);
    const [, octal, escaped, plain] = match;
    if (plain !== undefined) chunks.push(Buffer.from(plain, "utf8"));
    else if (octal !== undefined) chunks.push(Buffer.of(Number.parseInt(octal, 8) & 0xff));
    else chunks.push(Buffer.of(byteOfEscape(escaped!, token)));
    position = quotedPiece.lastIndex;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function byteOfEscape(letter: string, token: string): number {
  const byte = escapedBytes[letter];
  if (byte === undefined) throw new AppError("invalid", "git_path_unreadable", `unknown escape \\${letter} in git path ${token}`);
  return byte;
}

/**
 * Reads one path token from the start of `text`: a quoted token (to its closing quote) or, unquoted,
 * up to `stopAt` (a tab for `--- a/x\t`, nothing for the rest of the line).
 */
export function readPathToken(text: string, stopAt?: string): { path: string; rest: string } {
  if (text.startsWith('"')) {
    const end = closingQuote(text);
    return { path: unquoteGitPath(text.slice(0, end + 1)), rest: text.slice(end + 1) };
  }
  const stop = stopAt === undefined ? -1 : text.indexOf(stopAt);
  return stop === -1 ? { path: text, rest: "" } : { path: text.slice(0, stop), rest: text.slice(stop) };
}

function closingQuote(text: string): number {
  for (let index = 1; index < text.length; index++) {
    if (text[index] === "\\") index++;
    else if (text[index] === '"') return index;
  }
  throw new AppError("invalid", "git_path_unreadable", `unterminated quoted git path: ${text}`);
}
