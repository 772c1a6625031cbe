/**
 * Answering a request that never reached the application straight on its node:net socket
 * (the node:http binding's `clientError` handler, and `carafe serve`'s limits).
 */
import type { Socket } from 'node:net';
import { problemJson, statusLine } from './problem.js';

/**
 * Answers a request that never reached the app (Node's parser refused it, or it came too slowly)
 * straight on its socket, and closes the connection once the answer is sent. A socket that
 * already carries part of a response is destroyed instead; one already closing (after a
 * `Connection: close` response) is left to finish sending and close. `headers` are extra header
 * lines, each ending in CRLF.
 */
export function answerOnSocket(socket: Socket, status: number, detail?: string, headers = ''): void {
  if (socket.destroyed) return;
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable) {
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
    return;
  }
  if (current?.headersSent) {
    socket.destroy();
    return;
  }
  const body = problemJson(status, detail);
  socket.end(
    `HTTP/1.1 ${statusLine(status)}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
