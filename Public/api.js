// Eckart dashboard: talking to this server's API. JSON requests with the API key from sessionStorage,
// errors as APIError carrying the server's code and message, and server-sent events.

export const KEY_STORAGE = "eckart.apiKey";   // sessionStorage: the key lives as long as the tab

/** An API error carrying the HTTP status and the server's error code. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function headers(extra = {}) {
  const h = { ...extra };
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

/** Sends a JSON request and returns the parsed answer, or throws an APIError with the server's message. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: headers({ Accept: "application/json" }) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new APIError(0, "network", `the server did not answer (${error.message})`);
  }
  if (!response.ok) {
    let code = "http_" + response.status, message = `${response.status} ${response.statusText}`;
    try {
      const payload = await response.json();
      if (payload && payload.error) ({ code, message } = payload.error);
    } catch (_) { /* not JSON: keep the status line */ }
    throw new APIError(response.status, code, message);
  }
  return response.json();
}

/** Splits server-sent event text, fed in pieces, into onEvent(name, data) calls. */
export function eventParser(onEvent) {
  let buffer = "";
  return (text) => {
    buffer = (buffer + text).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
  };
}

/**
 * GET `path` asking for server-sent events; onEvent(name, data) runs as each event arrives. Resolves
 * with the parsed JSON body instead when the server answers with plain JSON. XMLHttpRequest rather
 * than fetch: it can send the Authorization header (EventSource cannot), hands over the text as it
 * arrives, and headless Chromium's virtual time waits for it to finish (the test relies on that).
 */
export function getEvents(path, onEvent) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", path);
    for (const [name, value] of Object.entries(headers({ Accept: "text/event-stream" }))) xhr.setRequestHeader(name, value);
    const parse = eventParser(onEvent);
    let seen = 0;
    const isStream = () => (xhr.getResponseHeader("Content-Type") || "").startsWith("text/event-stream");
    const drain = () => {
      if (xhr.status !== 200 || !isStream()) return;
      parse(xhr.responseText.slice(seen));
      seen = xhr.responseText.length;
    };
    xhr.onprogress = drain;
    xhr.onload = () => {
      if (xhr.status === 200 && isStream()) {
        drain();
        resolve(undefined);
        return;
      }
      let payload = null;
      try { payload = JSON.parse(xhr.responseText); } catch (_) { /* keep null */ }
      if (xhr.status === 200 && payload) resolve(payload);
      else {
        const error = (payload && payload.error) || { code: "http_" + xhr.status, message: `${xhr.status} ${xhr.statusText}` };
        reject(new APIError(xhr.status, error.code, error.message));
      }
    };
    xhr.onerror = () => reject(new APIError(0, "network", "the server did not answer"));
    xhr.send();
  });
}
