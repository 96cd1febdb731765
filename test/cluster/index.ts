// The real Kubernetes control plane for tests (issue #10). See README.md here.
export { freePort, startControlPlane, type ControlPlane, type ControlPlaneOptions, type RunResult } from './control-plane.ts';
export {
  createNamespace, createNode, setNodeReady, createEndpointSlice, serviceAccountKubeconfig,
  type NodeOptions, type SliceEndpoint, type SliceOptions,
} from './objects.ts';
export { toolPath, missingTools, clusterSuiteOptions, toolVersions, coreTools, metallbCrdDir, type ToolName } from './tools.ts';
