import { json, type HttpError, type Request, type Response } from '@carafe/core';

/** Answers an HTTP error as the RFC 9457 problem document the framework gives every other error. */
export function problem(error: HttpError, req: Request<any, any, any>): Response {
  return json(error.toProblem(req.path), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...error.headers },
  });
}
