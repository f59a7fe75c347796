// `git check-ref-format`'s rules, in process: a ref from a webhook is checked before git ever sees it, so that
// it can neither pass for an option nor name something outside refs/.

/** True for a full ref name under refs/ that git itself would accept (refs/heads/main, refs/tags/v1). */
export function isValidRef(ref: string): boolean {
  if (!ref.startsWith("refs/") || ref.length > 1024) return false;
  // Control characters, space, DEL and ~ ^ : ? * [ \ are never allowed; nor "..", "@{" or "//".
  if ([...ref].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f)) return false;
  if (/[~^:?*[\\]|\.\.|@\{|\/\//.test(ref)) return false;
  if (ref.endsWith("/") || ref.endsWith(".")) return false;
  return ref.split("/").every((part) => part.length > 0 && !part.startsWith(".") && !part.endsWith(".lock"));
}
