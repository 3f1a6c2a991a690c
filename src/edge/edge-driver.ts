// The contract between the task engine and one edge node (a cache server).
// The engine owns batching, concurrency, retries, deadlines and bookkeeping; a driver only speaks its
// engine's protocol. A new cache engine is a new folder under src/edge/ exporting an EngineModule from its
// index.ts, and one line in src/edge/engines.ts (README: "Adding an engine").

/** An origin server of an accelerated domain, as the edge must reach it. */
export interface OriginSource {
  /** IP address or host name. */
  address: string;
  type: 'ipaddr' | 'domain' | 'obs_bucket';
  /** true for the primary source, false for a standby used when the primaries fail. */
  primary: boolean;
  httpPort: number;
  httpsPort: number;
}

/** What an edge needs to serve one accelerated domain. */
export interface DomainConfig {
  /** Accelerated domain name, lower case; the edge serves it by Host header. */
  name: string;
  sources: OriginSource[];
}

/**
 * One object or directory on one domain. `path` is the request target as a cache keys it: the path
 * plus `?query` when there is one, exactly as clients send it (already percent-encoded where needed).
 * For directory operations it is the directory prefix, ending with `/`.
 */
export interface EdgeTarget {
  host: string;
  path: string;
  /**
   * The engine's id of this URL of a task (task_urls.id), when it has one: the same operation sent
   * again (a redelivery, or another process resuming the URL) carries the same ref, so a transport
   * that can remember refs applies it at most once per node.
   */
  ref?: number;
}

/** The outcome of one operation on one target. */
export type EdgeResult =
  | { ok: true; detail?: string }
  | {
      ok: false;
      /** ORIGIN_ERROR: the origin refused or the answer cannot be cached; INNER_ERROR: the node failed. */
      classify: 'ORIGIN_ERROR' | 'INNER_ERROR';
      /** true when trying again later may succeed (the engine retries until its deadline). */
      retryable: boolean;
      message: string;
    };

/** What the engine says about one call of an operation method. */
export interface CallOptions {
  /**
   * How long the engine still wants the answer (the latest deadline of the call's URLs): a driver whose
   * own call timeout is longer gives up after this instead. Drivers that cannot bound a call may ignore
   * it; the engine abandons the call at the deadline anyway.
   */
  timeoutMs?: number;
}

export interface EdgeHealth {
  up: boolean;
  /** Version of the domain set last applied with applyDomains, if the node reports one. */
  domainsVersion?: number;
  detail?: string;
  /** Where exact purges can be sent straight to the engine, skipping an edge agent (see AgentDriver). */
  directPurge?: DirectPurge;
}

/** An engine's own purge endpoint: `method url+pathPrefix+path` with the public Host; 200 purged, 404 not cached. */
export interface DirectPurge {
  url: string;
  method: string;
  pathPrefix: string;
  /** ATS: a 404 means "not cached" only with an empty body (with a body the host has no remap rule). */
  emptyNotFound?: boolean;
}

/** What a driver can do natively; the engine reads these instead of checking driver names. */
export interface EdgeCapabilities {
  /** Most targets the engine may pass in one call. */
  maxBatch: number;
  /** Calls the engine may have in flight on this node at once. */
  maxInFlight: number;
}

/**
 * A driver for one node. Every operation method takes a batch of targets and resolves with one result
 * per target, in order. It rejects only when the node could not be asked at all (connection refused,
 * timeout, a malformed answer): the engine then treats the whole batch as a retryable INNER_ERROR.
 */
export interface EdgeDriver {
  readonly capabilities: EdgeCapabilities;
  /** Evicts exactly these objects (host + path + query), every stored variant. Not cached is success. */
  purge(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]>;
  /** Evicts every object below each directory, sub-directories included. */
  purgeDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]>;
  /** Marks these objects stale: the next request revalidates with the origin and keeps the body on 304. */
  revalidate(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]>;
  /** Marks every object below each directory stale, as revalidate does. */
  revalidateDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]>;
  /**
   * Fetches each object from its origin through the node and stores it, replacing a cached copy.
   * An origin 4xx/5xx or an answer the node may not store is { ok: false, classify: 'ORIGIN_ERROR' }.
   */
  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]>;
  health(): Promise<EdgeHealth>;
  /**
   * Replaces the node's whole set of served domains with `domains` (idempotent). `version` is the
   * deployment's number of this set (it increases with every change of the set's content, and every
   * serve process gives the same set the same number), so a node can report which set it serves.
   */
  applyDomains(domains: DomainConfig[], version: number): Promise<void>;
  close(): Promise<void>;
}

/** A cache engine's name, as nodes and `cachectl agent` name it: one of the names in src/edge/engines.ts. */
export type DriverName = string;

/** What the engine asks of a node for one URL of a task: one operation method of EdgeDriver each. */
export type WorkKind = 'purge' | 'purge_dir' | 'revalidate' | 'revalidate_dir' | 'prefetch';

/** An edge node as the control plane knows it. */
export interface EdgeNode {
  /** Unique, human-readable; failure descriptions name it. */
  name: string;
  driver: DriverName;
  /** Where users connect (traffic). */
  trafficUrl: string;
  /**
   * Where the driver connects: the admin endpoint of a built-in edge, the edge agent beside an nginx or
   * ATS (`http://host:port`), or varnishd's admin CLI (`host:port`, its -T address).
   */
  controlUrl: string;
  /** Shared secret of the control endpoint: varnishd's -S file contents, or the edge agent's token. */
  secret?: string;
  /** Free-form labels, e.g. {"pop": "fra1", "region": "eu"}. */
  labels: Record<string, string>;
  /**
   * How commands reach the node: `http` (default) straight from the control plane to controlUrl, or
   * `nats` through the edge bus to the agent of the node's PoP, which drives the node locally.
   */
  transport?: 'http' | 'nats';
  /** The PoP whose agent drives the node; required with transport `nats`. */
  pop?: string;
}

/** What an engine does, beyond the operation methods every driver has; read instead of engine names. */
export interface EngineCapabilities {
  /** Marks objects stale natively, so a revalidate keeps the body on a 304 (Huawei's detect_modify_refresh). */
  softPurge: boolean;
  /** Evicts or marks everything below a directory in one operation. */
  directoryPurge: boolean;
  /** Evicts by cache tag (no engine does today). */
  tagPurge: boolean;
  /** A prefetch answers only once the node has stored the object, and fails when it may not store it. */
  prefetchVerification: boolean;
  /** The engine has its own purge endpoint that exact purges may go to directly (EdgeHealth.directPurge). */
  directPurgeEndpoint: boolean;
  /** No control API of its own: `cachectl agent <name>` runs beside it (agentEngine) and the driver speaks to that. */
  needsAgent: boolean;
  /** Resolves origin host names itself on every connect (following DNS); other engines get pinned addresses. */
  resolvesOrigins: boolean;
  /** For tests only: the node API refuses nodes of it. */
  testOnly: boolean;
}

/** The engine-specific fields of a new node, as an operator gives them. */
export interface NodeControl {
  controlUrl: string;
  secret?: string;
}

/** A node's fields do not fit its engine; the message says why (the API answers 400 with it). */
export class InvalidNodeError extends Error {}

/** A local instance of an engine, started by its launcher for development, tests and the bench. */
export interface LocalInstance {
  trafficUrl: string;
  pid: number;
  /** How to purge one URL on the engine itself, without cachectl (the bench's baseline). */
  rawPurge: { origin: string; method: string; pathPrefix: string };
  /** Engines with a control endpoint of their own: where the driver connects, its secret, and the file holding it. */
  control?: { url: string; secret: string; secretFile: string };
  /** Engines driven by an agent: the options `cachectl agent <name> --config` takes. */
  engineOptions?: unknown;
}

/** Starts and stops local instances of an engine, one folder per instance under `dir`. */
export interface LocalLauncher {
  /** Why the engine cannot run here, or undefined when it can. */
  missing(): string | undefined;
  startLocal(dir: string, name: string): Promise<LocalInstance>;
  stopLocal(dir: string, names?: string[]): Promise<void>;
}

/** One cache engine, as src/edge/<name>/index.ts exports it and src/edge/engines.ts lists it. */
export interface EngineModule {
  name: DriverName;
  capabilities: EngineCapabilities;
  /** Checks and normalises a new node's control fields; throws InvalidNodeError. */
  validateNode(input: NodeControl): NodeControl;
  /** The control plane's driver for a node of this engine. */
  createDriver(node: EdgeNode): EdgeDriver;
  /** What `cachectl agent <name>` runs beside the engine, from its JSON options (needsAgent engines). */
  agentEngine?(options: unknown): Promise<EdgeDriver>;
  /** Local instances for development and tests, where the engine can run on loopback. */
  localProcess?(): Promise<LocalLauncher>;
}
