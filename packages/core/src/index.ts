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
  AddRouteOptions,
  AfterRequestHook,
  BeforeRequestHook,
  ErrorHandler,
  Handler,
  RegisterOptions,
  RequestFor,
  PrefixOf,
  Registrable,
  RouteDefinition,
  RouteOptions,
  SchemaShape,
  TeardownHook,
} from './scaffold.js';
export { Request, RequestHeaders, afterThisRequest, isJsonContentType } from './request.js';
export type { AfterThisRequestHook, MatchedRoute, RequestApp } from './request.js';
export type { UrlDefaults, UrlValuePreprocessor, HandlerScope, HookSet } from './hooks.js';
export type { UrlForOptions } from './url.js';
export {
  FileResponse,
  JsonResponse,
  Response,
  ResponseHeaders,
  file,
  html,
  json,
  redirect,
  sendFromDirectory,
  stream,
  text,
} from './response.js';
export type { BodyInit, FileInit, HeadersInit, ResponseInit } from './response.js';
export {
  BadGateway,
  BadRequest,
  Conflict,
  ContentTooLarge,
  Forbidden,
  GatewayTimeout,
  Gone,
  HttpError,
  InternalServerError,
  LengthRequired,
  MethodNotAllowed,
  NotAcceptable,
  NotFound,
  NotImplemented,
  PreconditionFailed,
  RequestTimeout,
  ServiceUnavailable,
  TooManyRequests,
  Unauthorized,
  UnprocessableContent,
  UnsupportedMediaType,
  ValidationError,
  ResponseAbort,
  abort,
  httpError,
  problem,
  reasonPhrase,
} from './errors.js';
export type { HttpErrorOptions, ProblemExtensions, ProblemRequest } from './errors.js';
export type {
  CarafeRoutes,
  CarafeSchemas,
  CheckParams,
  FromSchema,
  HandlerResult,
  Infer,
  JoinPath,
  ParamsOf,
  Query,
  Reply,
  RouteName,
  RouteParams,
  StatusCode,
  UrlForArgs,
} from './types.js';
export { TestClient } from './testing.js';
export type { RequestInput, TestClientOptions, TestRequestInit } from './testing.js';
export { parseCookies, serializeCookie } from './cookies.js';
export type { CookieOptions } from './cookies.js';
export { NullSession, Session, SessionSigner } from './session.js';
export type { UnsignOptions } from './session.js';
export { SignedCookieSessionInterface } from './session-interface.js';
export type { SessionInterface } from './session-interface.js';
export { ResponseValidationError, createAjv, createValidatorFactory, isStandardSchema, standardJsonSchema } from './schema.js';
export type {
  Ajv,
  AjvPlugin,
  CompiledRouteSchema,
  FieldError,
  JSONSchema,
  ResponseSchemas,
  RouteSchema,
  SchemaCompiler,
  SchemaPart,
  Serialize,
  SharedSchema,
  StatusRangeKey,
  ValidationResult,
  ValidatorFactoryOptions,
} from './schema.js';
export { buildOpenApi } from './openapi.js';
export type { OpenApiInfo, OpenApiOptions, OpenApiRoute } from './openapi.js';
export { parseForm } from './form.js';
export type { FormData, UploadedFile } from './form.js';
export { fileResponse } from './file.js';
export { consoleLogger, requestBindings, SERVER_TELEMETRY } from './observe.js';
export type { LogFn, Logger, ServerTelemetry } from './observe.js';
export type { CarafeUser, RequestAuth } from './auth.js';
export { ALLOWED_METHODS_KEY, ROUTE_MIDDLEWARE_KEY, documentMiddleware } from './middleware.js';
export type { MiddlewareDocs, OpenApiContribution } from './middleware.js';
