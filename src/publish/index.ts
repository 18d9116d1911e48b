// publish/ — what is checked before anything the agent produced reaches GitHub: the diff policy
// (which paths may change), the secret scan (secretlint rules over text and diffs), unified diff
// parsing and markdown fencing. Pure checks over text; they import nothing but lib/.
export {};
