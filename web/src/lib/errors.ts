// Server errors as the user sees them: a Connect/gRPC code name and the
// server's message. Pure module (duck-typed ConnectError, no imports).

export interface AppError {
  code: string;
  message: string;
  /** What the UI was doing: "upload", "process", "preview", ... */
  context?: string;
}

/** Code names by number, as in the Connect protocol (0 is ok). */
export const CODE_NAMES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
] as const;

export function codeName(code: number | string): string {
  if (typeof code === "string") return CODE_NAMES.includes(code as (typeof CODE_NAMES)[number]) ? code : "unknown";
  return CODE_NAMES[code] ?? "unknown";
}

/** For plain-HTTP routes (upload, content) whose body is not a Connect error. */
export function codeFromHttpStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "already_exists";
    case 413:
    case 429:
      return "resource_exhausted";
    case 499:
      return "canceled";
    case 501:
      return "unimplemented";
    case 503:
      return "unavailable";
    case 504:
      return "deadline_exceeded";
    default:
      return status >= 500 ? "internal" : "unknown";
  }
}

/** The `{"code": ..., "message": ...}` body of an error response. */
export function parseErrorBody(status: number, body: string): AppError {
  try {
    const o = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (o && typeof o === "object" && typeof o.code === "string") {
      return { code: codeName(o.code), message: typeof o.message === "string" ? o.message : "" };
    }
  } catch {
    /* not JSON */
  }
  const text = body.trim().slice(0, 200);
  return { code: codeFromHttpStatus(status), message: text || `HTTP ${status}` };
}

/** Browsers' wording for a fetch that never got a response. */
const NETWORK_FAILURE = /failed to fetch|networkerror|load failed|network request failed/i;

/** Any thrown value: a ConnectError (code number, rawMessage), an abort, a
 * network failure, or an AppError already. */
export function toAppError(e: unknown, context?: string): AppError {
  const withCtx = (x: AppError): AppError => (context ? { ...x, context } : x);
  if (e && typeof e === "object") {
    const o = e as { code?: unknown; rawMessage?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === "number" && typeof o.rawMessage === "string") {
      // connect-web reports a failed fetch (server down, CORS refusal) as
      // "unknown" with the TypeError as its cause: the user should read
      // that the server cannot be reached.
      const cause = o.cause as { name?: unknown; message?: unknown } | undefined;
      if (o.code === 2 && (cause?.name === "TypeError" || NETWORK_FAILURE.test(o.rawMessage))) {
        const why = typeof cause?.message === "string" ? cause.message : o.rawMessage;
        return withCtx({ code: "unavailable", message: `cannot reach the server (${why})` });
      }
      return withCtx({ code: codeName(o.code), message: o.rawMessage });
    }
    if (typeof o.code === "string" && typeof o.message === "string" && !("name" in o && o.name === "TypeError")) {
      return withCtx({ code: codeName(o.code), message: o.message });
    }
    if (o.name === "AbortError") return withCtx({ code: "canceled", message: "canceled" });
    if (o.name === "TypeError" && typeof o.message === "string") {
      return withCtx({ code: "unavailable", message: `cannot reach the server (${o.message})` });
    }
    if (typeof o.message === "string") return withCtx({ code: "unknown", message: o.message });
  }
  return withCtx({ code: "unknown", message: String(e) });
}

/** One line: "invalid_argument: unknown filter \"nope\"". */
export function formatError(e: AppError): string {
  return e.message ? `${e.code}: ${e.message}` : e.code;
}
