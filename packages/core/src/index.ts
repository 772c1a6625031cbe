/**
 * @carafe/core — a Flask-like micro web framework for TypeScript whose applications are TSGI apps.
 */
export { Carafe } from './app.js';
export type { CarafeOptions, RouteTableRow } from './app.js';
export type { CarafeConfig, SessionConfig } from './config.js';
export { Blueprint } from './blueprint.js';
export type { BlueprintOptions } from './blueprint.js';
export { RouteChain, Scaffold } from './scaffold.js';
export type {
  AddRouteOptions, AfterRequestHook, BeforeRequestHook, ErrorHandler, Handler, RegisterOptions, RequestFor,
  Registrable, RouteDefinition, RouteOptions, SchemaShape, TeardownHook,
} from './scaffold.js';
export { Request, RequestHeaders, isJsonContentType } from './request.js';
export type { MatchedRoute, RequestApp } from './request.js';
export { FileResponse, Response, ResponseHeaders, file, html, json, redirect, stream, text } from './response.js';
export type { BodyInit, FileInit, HeadersInit, ResponseInit } from './response.js';
export {
  BadGateway, BadRequest, Conflict, ContentTooLarge, Forbidden, GatewayTimeout, Gone, HttpError, InternalServerError,
  LengthRequired, MethodNotAllowed, NotAcceptable, NotFound, NotImplemented, PreconditionFailed, RequestTimeout,
  ServiceUnavailable, TooManyRequests, Unauthorized, UnprocessableContent, UnsupportedMediaType, ValidationError,
  abort, httpError, problem, reasonPhrase,
} from './errors.js';
export type { HttpErrorOptions, ProblemExtensions, ProblemRequest } from './errors.js';
export type { FromSchema, ParamsOf, Query } from './types.js';
export { parseCookies, serializeCookie } from './cookies.js';
export type { CookieOptions } from './cookies.js';
export { Session, SessionSigner } from './session.js';
export type { UnsignOptions } from './session.js';
export { SignedCookieSessionInterface } from './session-interface.js';
export type { SessionInterface } from './session-interface.js';
export { createAjv, createValidatorFactory } from './schema.js';
export type { Ajv, CompiledRouteSchema, FieldError, JSONSchema, RouteSchema, SchemaCompiler, ValidationResult } from './schema.js';
export { buildOpenApi } from './openapi.js';
export { parseForm } from './form.js';
export type { FormData, UploadedFile } from './form.js';
export { fileResponse } from './file.js';
