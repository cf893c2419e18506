// The {{name}} pattern plugin: a sidecar that writes a greeting into a volume the main
// container reads. Replace the logic in `render`.
//
// Built into a WebAssembly component by ./build.sh (componentize-js) against the world
// `pattern-plugin` of wit/plugin.wit. WIT records are plain objects with camelCase fields,
// enums are strings ('sidecar'), variants are { tag, val }, option<T> is the value or
// undefined, s64 is a BigInt; `render` returns its contribution or throws its render-error.

import { log } from 'kubectl-pattern:plugin/host@0.2.0';

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

const INFO = {
  id: '{{name}}',
  kind: 'sidecar',
  version: '0.1.0',
  summary: 'Write a greeting for the app into a shared volume',
  docs: {
    description:
      'A sidecar writes a greeting naming the app into hello.txt in an in-memory volume,\n' +
      'which the main container mounts read-only at sharedDir.',
    useWhen: '- You are learning to write kubectl-pattern plugins.',
    avoidWhen: '- Anything real: replace this logic with your own.',
    diagram:
      '+------------------ Pod ------------------+\n' +
      '|  main container  <-- hello.txt --  helper |\n' +
      '|         (shared in-memory emptyDir)       |\n' +
      '+-------------------------------------------+',
  },
  params: [
    param('image', 'image', 'Helper image, pinned.', { default: 'busybox:1.37' }),
    param('message', 'string', 'The greeting.', { default: 'hello' }),
    param('sharedDir', 'string', 'Where the main container finds hello.txt.', {
      default: '/shared',
      pattern: '^/[^\\s]*$',
    }),
  ],
  // Example values for `explain`'s example command, one for each required parameter:
  // { name: 'target', valueJson: JSON.stringify('db.example.com:5432') }.
  examples: [],
};

function render(request) {
  const params = JSON.parse(request.paramsJson);
  const volume = `${request.instance}-shared`;
  const helper = {
    name: request.instance,
    image: params.image,
    command: ['/bin/sh', '-c'],
    args: ['echo "$MESSAGE, $APP" > /out/hello.txt && while true; do sleep 3600; done'],
    env: [
      { name: 'MESSAGE', value: params.message },
      { name: 'APP', value: request.mainContainer },
    ],
    resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65534,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [{ name: volume, mountPath: '/out' }],
  };
  log('debug', `greeting ${request.mainContainer} in ${params.sharedDir}`);
  return {
    containers: [JSON.stringify(helper)],
    initContainers: [],
    nativeSidecars: [],
    volumes: [JSON.stringify({ name: volume, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } })],
    mounts: [
      {
        target: { tag: 'main' },
        volumeMountJson: JSON.stringify({ name: volume, mountPath: params.sharedDir, readOnly: true }),
      },
    ],
    env: [],
    annotations: [],
    warnings: [],
  };
}

export const pattern = {
  describe() {
    return INFO;
  },
  render(request) {
    // An exception escaping an export traps with no message: throw a render-error instead
    // ({ tag: 'invalid-params' | 'unsupported-workload' | 'failed' | 'not-applicable', val }).
    try {
      return render(request);
    } catch (error) {
      if (error && typeof error.tag === 'string') {
        throw error;
      }
      throw { tag: 'failed', val: `{{name}}: ${error}` };
    }
  },
};
