import { describe, expect, it } from "vitest";
import { parseReviewVerdict } from "../../src/agent/review-verdict.ts";

describe("parseReviewVerdict", () => {
  it.each([
    ["REQUEST_CHANGES", "exactly the marker"],
    ["REQUEST_CHANGES\n- add a test", "the marker, then the review"],
    ["\n\n  \nREQUEST_CHANGES\nreasons", "blank lines before it"],
    ["REQUEST_CHANGES   \t\nreasons", "trailing whitespace"],
    ["  REQUEST_CHANGES\nreasons", "leading whitespace"],
    ["REQUEST_CHANGES\r\nreasons", "a CRLF line ending"],
    ["\uFEFFREQUEST_CHANGES\nreasons", "a byte-order mark"],
  ])("requests changes for %j (%s)", (output) => {
    expect(parseReviewVerdict(output)).toBe("request_changes");
  });

  it.each([
    ["", "empty output"],
    ["   \n\n", "only blank lines"],
    ["APPROVE\nLooks good.", "an approval"],
    ["REQUEST_CHANGES: add a test", "the marker with a colon and text"],
    ["REQUEST_CHANGES:", "the marker with a colon"],
    ["**REQUEST_CHANGES**", "the marker in bold"],
    ["`REQUEST_CHANGES`", "the marker as code"],
    ["request_changes", "lower case"],
    ["REQUEST CHANGES", "a space instead of the underscore"],
    ["Looks fine.\nREQUEST_CHANGES", "the marker on a later line"],
    ["I would REQUEST_CHANGES here", "the marker inside a sentence"],
  ])("approves %j (%s)", (output) => {
    expect(parseReviewVerdict(output)).toBe("approve");
  });
});
