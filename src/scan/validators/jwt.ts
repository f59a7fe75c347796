// JWTs whose payload names a privileged role of a known issuer (Supabase `service_role`): a structural check
// of the decoded header and payload, since the signature cannot be checked without the issuer's key.

function decodeSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A JWT with `alg` in its header and `role: service_role` in its payload. */
export function isServiceRoleJwt(token: string): boolean {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature || signature.length < 16) return false;
  const head = decodeSegment(header);
  const body = decodeSegment(payload);
  return typeof head?.alg === "string" && body?.role === "service_role";
}
