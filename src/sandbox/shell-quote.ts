// E2B runs every command as `/bin/bash -l -c <string>`, so its adapter has to turn the port's
// argv into one shell string. Each element is single-quoted: between single quotes the shell
// interprets nothing at all ($, `, \, !, globs, newlines are literal), and a single quote itself
// is written as '\'' (close the quote, an escaped quote, reopen). No element is ever left bare,
// so no argument — whatever text an issue put into it — can become shell syntax.

/** One argument as a shell word that the shell reads back as exactly `arg`. */
export function quoteShellArg(arg: string): string {
  // A C string (what execve passes on) cannot hold NUL: the argument would arrive cut short.
  if (arg.includes("\0")) throw new TypeError("a command argument cannot contain a NUL character");
  // Lone surrogates cannot be encoded as UTF-8: they would arrive as U+FFFD, not as written.
  if (/\p{Cs}/u.test(arg)) throw new TypeError("a command argument cannot contain an unpaired UTF-16 surrogate");
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** An argv as a shell command line whose words are exactly the argv. */
export function quoteShellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError("a command needs at least its program");
  return argv.map(quoteShellArg).join(" ");
}
