/**
 * The dynamic providers Pulumi serializes into the stack state (`__provider`) and runs in its Node
 * provider process. What gets serialized must stay tiny and free of secrets: each method captures
 * only the resource type and the host module's package name, and loads the host at call time
 * (Pulumi's advice for heavy dependencies, pulumi/pulumi#18997). A module-scope client, config or
 * env read would be baked into the state instead.
 */
import type * as dynamic from '@pulumi/pulumi/dynamic';
import type { ResourceType } from '../src/resources';
import type * as Host from './provider-host';

/**
 * A package specifier, not a relative path: the provider process evaluates the serialized code
 * with the program's directory as its module root, where `vic-iac` is an installed dependency.
 */
export const PROVIDER_HOST_MODULE = 'vic-iac/pulumi/provider-host';

const providers = new Map<ResourceType, dynamic.ResourceProvider>();

/** The serializable provider of one resource type; one instance per type, so Pulumi caches its text. */
export function dynamicProviderFor(type: ResourceType): dynamic.ResourceProvider {
  const existing = providers.get(type);
  if (existing) return existing;
  const hostModule = PROVIDER_HOST_MODULE;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at call time in the provider process, never serialized
  const host = (): Host.ProviderHost => (require(hostModule) as typeof Host).providerHost();
  const provider: dynamic.ResourceProvider = {
    async configure(req) {
      host().configure((key) => req.config.get(key));
    },
    async check(olds, news) {
      return host().checkInputs(type, olds, news);
    },
    async diff(id, olds, news) {
      return host().diff(type, id, olds, news);
    },
    async create(inputs) {
      return host().create(type, inputs);
    },
    async read(id, props) {
      return host().read(type, id, props ?? {});
    },
    async update(id, olds, news) {
      return host().update(type, id, olds, news);
    },
    async delete(id, props) {
      return host().delete(type, id, props);
    },
  };
  providers.set(type, provider);
  return provider;
}
