/**
 * vic-iac's public surface for programs: the resource declarations, the engine, and the stack
 * planner. Front ends have their own entry points: `vic-iac/pulumi`, `vic-iac/cdktf`, the `vic`
 * CLI and `terraform-provider-vic`. Everything not exported here is internal; the simulator
 * launcher (src/sim) is a test tool and `vic sim`'s, not part of this API.
 */
export {
  declarations,
  declarationFor,
  virtualContainerHost,
  image,
  containerVm,
  connectionSchema,
  connectionFromEnv,
  connectionSettings,
  validateAttrs,
  migrateState,
  StateVersionError,
  UNKNOWN,
  type Attribute,
  type AttrType,
  type Attrs,
  type ConnectionSettings,
  type Problem,
  type ResourceDeclaration,
  type ResourceType,
  type Schema,
  type Value,
} from './resources';
export {
  connectEngine,
  planStack,
  applyStack,
  refreshStack,
  validateStack,
  EMPTY_STATE,
  ResourceError,
  type ConnectEngineOptions,
  type Engine,
  type PlannedChange,
  type StackPlan,
  type StackResource,
  type StackState,
} from './engine';
