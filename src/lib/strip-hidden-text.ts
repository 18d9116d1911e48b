// Issue and comment text is hostile data (ARCHITECTURE.md, planes and trust). What GitHub
// does not render — HTML comments, zero-width and bidi controls, Unicode tag characters — can
// carry instructions a reviewer never sees, so it is removed before anything reads the text.

const htmlComment = /<!--[\s\S]*?(?:-->|$)/g;
// Zero-width (U+200B–U+200D, U+2060, U+FEFF), soft hyphen, bidi marks and embeddings/isolates
// (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069), Unicode tags (U+E0000–U+E007F),
// and supplementary variation selectors (U+E0100–U+E01EF), which can encode hidden bytes.
const invisible = /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|\uDB40[\uDC00-\uDDEF]/g;

export function stripHiddenText(text: string): string {
  return text.replace(htmlComment, "").replace(invisible, "");
}

/** True when the text holds anything stripHiddenText would remove. */
export const hasHiddenText = (text: string): boolean => stripHiddenText(text) !== text;
