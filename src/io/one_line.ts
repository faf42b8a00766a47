// Error messages that quote text from files, made safe to print on one line. Free of Node, so that
// the ONNX importer in `convstack/browser` can use it (files.ts re-exports it).

/** Longer messages are cut short: a hostile file can hold a node name of megabytes. */
const MAX_MESSAGE = 2000;

/**
 * An error message that quotes text from a file, made one line: control characters (a newline in
 * an ONNX node name, a pickle key) are escaped as in JSON and the message is cut past 2,000
 * characters. The ONNX and .pth readers' errors pass their messages through it.
 */
export function oneLine(message: string): string {
  const escaped = message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length <= MAX_MESSAGE ? escaped : `${escaped.slice(0, MAX_MESSAGE)}... (${escaped.length} characters)`;
}
