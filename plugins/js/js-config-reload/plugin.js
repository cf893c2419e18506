// js-config-reload: a kubectl-pattern plugin written in JavaScript.
//
// The app reads its configuration from a ConfigMap mounted as a directory. A small sidecar
// (configmap-reload) watches the same volume and, when the kubelet updates the files, POSTs to
// the app's reload endpoint on localhost: configuration changes take effect without a restart.
//
// Built into a WebAssembly component by ../build.sh with componentize-js, against the world
// `pattern-plugin` of wit/plugin.wit (package kubectl-pattern:plugin@0.2.0). Records are plain
// objects with camelCase fields, enums are their WIT names as strings, variants are
// `{ tag, val }`; a `result` export returns its ok value and throws its error value.

import { log } from 'kubectl-pattern:plugin/host@0.2.0';

const VERSION = '0.1.0';
const DEFAULT_IMAGE = 'ghcr.io/jimmidyson/configmap-reload:v0.14.0';

// Directories the config volume must never hide.
const FORBIDDEN_DIRS = new Set(['/', '/bin', '/dev', '/etc', '/lib', '/proc', '/sbin', '/sys', '/usr', '/var']);

function param(name, kind, description, extra = {}) {
  return {
    name,
    kind,
    description,
    defaultJson: extra.default === undefined ? undefined : JSON.stringify(extra.default),
    required: extra.required === true,
    values: extra.values ?? [],
    pattern: extra.pattern,
    min: extra.min === undefined ? undefined : BigInt(extra.min),
    max: extra.max === undefined ? undefined : BigInt(extra.max),
    items: extra.items,
    secret: false,
  };
}

const PARAMS = [
  param('configMap', 'dns-name', 'The ConfigMap with the app\'s configuration files.', { required: true }),
  param('mountPath', 'string', 'Where the main container reads the files (a directory of its own).', {
    default: '/config',
    pattern: '^/[^\\s]*$',
  }),
  param('reloadPort', 'port', 'The port on localhost where the app listens for the reload call.', { default: 8080 }),
  param('reloadPath', 'string', 'The path of the app\'s reload endpoint (it receives a POST).', {
    default: '/-/reload',
    pattern: '^/[^\\s]*$',
  }),
  param('image', 'image', 'configmap-reload image, pinned.', { default: DEFAULT_IMAGE }),
  param('cpuRequest', 'quantity', 'CPU request of the sidecar.', { default: '5m' }),
  param('memoryRequest', 'quantity', 'Memory request of the sidecar.', { default: '16Mi' }),
  param('memoryLimit', 'quantity', 'Memory limit of the sidecar.', { default: '32Mi' }),
];

const DOCS = {
  description: [
    'The ConfigMap is mounted read-only at mountPath in the main container and in a',
    'configmap-reload sidecar. When the ConfigMap changes, the kubelet swaps the files',
    '(within about a minute); the sidecar sees the change and POSTs to',
    'http://127.0.0.1:reloadPort/reloadPath, so the app re-reads its configuration without a',
    'restart or a rollout.',
    '',
    'The sidecar runs hardened (non-root, read-only root filesystem, no privilege escalation,',
    'no capabilities, RuntimeDefault seccomp).',
    '',
    'An example plugin: it is written in JavaScript and built into a WebAssembly component',
    'with componentize-js (see docs/plugins.md).',
  ].join('\n'),
  useWhen: [
    '- The app has a reload endpoint (Prometheus, Alertmanager, many proxies) and its',
    '  configuration lives in a ConfigMap.',
    '- You want configuration changes live without a rollout.',
  ].join('\n'),
  avoidWhen: [
    '- The app cannot reload: roll it out instead (a checksum annotation on the template).',
    '- The ConfigMap is mounted with subPath: the kubelet never updates such files.',
    '- The app watches its files itself: no sidecar needed.',
  ].join('\n'),
  diagram: [
    '+------------------------------- Pod --------------------------------+',
    '|                                                                    |',
    '|  +----------------+  POST reloadPath   +------------------+       |',
    '|  | main container |<-------------------| configmap-reload |       |',
    '|  +-------+--------+   127.0.0.1        +---------+--------+       |',
    '|          | reads                                | watches        |',
    '|          v                                      v                |',
    '|        +------------- ConfigMap volume (read-only) ------+       |',
    '+--------------------------------------------------------------------+',
  ].join('\n'),
};

const EXAMPLES = [
  { name: 'configMap', valueJson: JSON.stringify('prometheus-config') },
  { name: 'reloadPort', valueJson: '9090' },
];

class RenderError {
  constructor(tag, message) {
    this.tag = tag;
    this.val = message;
  }
}

const invalid = (message) => new RenderError('invalid-params', message);

function renderContribution(request) {
  const params = JSON.parse(request.paramsJson);
  const instance = request.instance;

  const mountPath = params.mountPath.replace(/\/+$/, '') || '/';
  if (FORBIDDEN_DIRS.has(mountPath)) {
    throw invalid(`mountPath ${mountPath} would hide the image's own files: use a directory of its own, e.g. --set mountPath=/config`);
  }
  const reloadPath = params.reloadPath;
  const volume = `${instance}-config`;

  const sidecar = {
    name: instance,
    image: params.image,
    args: [`--volume-dir=${mountPath}`, `--webhook-url=http://127.0.0.1:${params.reloadPort}${reloadPath}`, '--webhook-method=POST'],
    resources: {
      requests: { cpu: params.cpuRequest, memory: params.memoryRequest },
      limits: { memory: params.memoryLimit },
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [{ name: volume, mountPath, readOnly: true }],
  };

  const warnings = [];
  const lastSegment = params.image.split('/').pop();
  if (!lastSegment.includes(':') && !params.image.includes('@')) {
    warnings.push(`image ${params.image} has no tag: pin one (e.g. ${DEFAULT_IMAGE})`);
  }

  log('info', `${instance}: reloading ${request.mainContainer} on changes of ConfigMap ${params.configMap}`);
  return {
    containers: [JSON.stringify(sidecar)],
    initContainers: [],
    nativeSidecars: [],
    volumes: [JSON.stringify({ name: volume, configMap: { name: params.configMap } })],
    mounts: [{ target: { tag: 'main' }, volumeMountJson: JSON.stringify({ name: volume, mountPath, readOnly: true }) }],
    env: [],
    annotations: [],
    warnings,
  };
}

export const pattern = {
  describe() {
    return {
      id: 'js-config-reload',
      kind: 'sidecar',
      version: VERSION,
      summary: 'Reload the app when its ConfigMap changes (configmap-reload sidecar)',
      docs: DOCS,
      params: PARAMS,
      examples: EXAMPLES,
    };
  },

  render(request) {
    // An exception that escapes an export traps (the host reports a crashed plugin with no
    // message): every failure leaves as a typed render-error instead.
    try {
      return renderContribution(request);
    } catch (error) {
      if (error instanceof RenderError) {
        throw { tag: error.tag, val: error.val };
      }
      log('error', String(error));
      throw { tag: 'failed', val: `js-config-reload: ${error}` };
    }
  },
};
