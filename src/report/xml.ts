// Escaping for XML and HTML text and attribute values: the five special characters, and the control
// characters that XML 1.0 forbids (a file's content can hold any of them).
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeMarkup(value: unknown): string {
  return (
    String(value)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing what XML cannot carry is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
      .replace(/[&<>"']/g, (c) => ENTITIES[c] as string)
  );
}
