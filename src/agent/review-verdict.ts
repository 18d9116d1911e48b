// The reviewer's verdict (ARCHITECTURE.md, "The `command` agent contract"): a review whose first
// line is `REQUEST_CHANGES` sends the task back to Code; anything else approves.
//
// Decisions, for every runtime alike:
// - "First line" is the first line that is not blank; blank lines before it are skipped.
// - The line is compared after trimming surrounding whitespace (spaces, tabs, a trailing `\r`,
//   a byte-order mark), and must then be exactly `REQUEST_CHANGES`, upper case.
// - Anything else on that line — `REQUEST_CHANGES:`, `REQUEST_CHANGES - see below`,
//   `**REQUEST_CHANGES**`, `request_changes` — is not the marker and approves. The contract is a
//   plain, exact line so that operator scripts can produce it with `echo`; the role prompt tells
//   agents to write it exactly so. Being strict keeps the rule predictable for everyone.
// - Empty output approves (an agent that wrote nothing requested nothing).

export type ReviewVerdict = "approve" | "request_changes";

export const REQUEST_CHANGES_MARKER = "REQUEST_CHANGES";

export function parseReviewVerdict(output: string): ReviewVerdict {
  for (const line of output.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    return trimmed === REQUEST_CHANGES_MARKER ? "request_changes" : "approve";
  }
  return "approve";
}
