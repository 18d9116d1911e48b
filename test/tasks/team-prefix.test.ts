import { describe, expect, it } from "vitest";
import { teamPrefix } from "../../src/tasks/team-prefix.ts";

describe("teamPrefix", () => {
  it.each([
    ["PostHog Team", "PHT"],
    ["ACME", "ACM"],
    ["PostHog", "POS"],
    ["engineering", "ENG"],
    ["a-b-c", "ABC"],
    ["ab", "TSK"],
    ["", "TSK"],
    ["!!", "TSK"],
    ["Ünïcödé Team", "NCD"],
  ])("%j → %s", (name, prefix) => {
    expect(teamPrefix(name)).toBe(prefix);
  });
});
