// Task branch names. The title is hostile text from an issue: only [a-z0-9-] of it survives, so
// the result is a valid ref (`git check-ref-format --branch`) and inert in any context it lands in.
import { AppError } from "../lib/errors.ts";

const maxTitleChars = 40;

/** `tasks/<slug>-<short-title>`, e.g. `tasks/pos-123-fix-login-redirect`. */
export function branchName(slug: string, title: string): string {
  const slugPart = toRefWords(slug, 32);
  if (!slugPart) throw new AppError("invalid", "invalid_slug", `a task slug such as POS-123 is required for a branch name, got ${JSON.stringify(slug)}`);
  const titlePart = toRefWords(title, maxTitleChars);
  return titlePart ? `tasks/${slugPart}-${titlePart}` : `tasks/${slugPart}`;
}

function toRefWords(text: string, maxChars: number): string {
  const words = text
    // Decompose accents (é → e + ◌́) so they fold to ASCII instead of vanishing with their letter.
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (words.length <= maxChars) return words;
  // Cut at a word boundary when one is near, so the name does not end in half a word.
  const cut = words.slice(0, maxChars + 1);
  const boundary = cut.lastIndexOf("-");
  return (boundary > maxChars / 2 ? cut.slice(0, boundary) : cut.slice(0, maxChars)).replace(/-+$/, "");
}

/**
 * Throws unless `branch` is a plain branch name Tasks may push to: the characters
 * `branchName` produces plus `_` and `.`, no `..`, no leading `-`, no `.lock` components.
 * Stricter than git's own rules on purpose: it also keeps refspec syntax (`:`, `+`, `^`) out.
 */
export function assertSafeBranchName(branch: string): void {
  const reasons: string[] = [];
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(branch)) reasons.push("only letters, digits, '.', '_', '-' and '/' are allowed");
  if (branch.startsWith("-") || branch.startsWith("/") || branch.endsWith("/") || branch.endsWith(".")) reasons.push("bad first or last character");
  if (branch.includes("..") || branch.includes("//")) reasons.push("'..' and '//' are not allowed");
  if (branch.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))) reasons.push("a component starts with '.' or ends with '.lock'");
  if (branch === "HEAD" || branch.startsWith("refs/")) reasons.push("give the short branch name");
  if (reasons.length > 0) throw new AppError("invalid", "unsafe_branch_name", `unsafe branch name ${JSON.stringify(branch)}: ${reasons.join("; ")}`);
}
