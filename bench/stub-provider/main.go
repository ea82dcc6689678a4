// terraform-provider-stub: a Terraform provider (plugin protocol 6, terraform-plugin-go) that serves
// vic's schema and does no work at all: no I/O, no vSphere, values passed through. The benchmarks
// run the same configuration through it to measure what Terraform itself spends per resource on
// ANY external provider with this schema (gRPC, msgpack, cty, plan checks), apart from what
// vic-iac's provider spends (bench/README.md).
//
// The schema is read at startup from schema.json next to the binary, in the shape of
// `terraform providers schema -json` (scripts/peers/75-stub-provider.sh writes it from
// provider/schema.ts). The resource type names stay vic_*, so vic's HCL works unchanged once the
// provider local name `vic` is mapped to the source vic-iac/stub.
//
// With VIC_STUB_WORK_URL set, each create of a vic_container_vm first POSTs its name there and
// waits for the answer: the benchmark's harness does the raw vSphere work of one container VM
// (CreateVM_Task and PowerOnVM_Task) meanwhile. That is the floor of any provider that does the
// work inside ApplyResourceChange, as it must: Terraform's own cost plus the work's latency.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

const (
	serveAddress = "registry.terraform.io/vic-iac/stub"
	// The schema file carries vic's provider under its own address.
	schemaAddress = "registry.terraform.io/vic-iac/vic"
)

func main() {
	schemaPath, err := schemaFilePath()
	if err != nil {
		log.Fatalf("terraform-provider-stub: %v", err)
	}
	schemas, err := loadSchemas(schemaPath, schemaAddress)
	if err != nil {
		log.Fatalf("terraform-provider-stub: %v", err)
	}
	provider := newStubProvider(schemas)
	if err := tf6server.Serve(serveAddress, func() tfprotov6.ProviderServer { return provider }); err != nil {
		log.Fatalf("terraform-provider-stub: %v", err)
	}
}

// schemaFilePath is schema.json beside the real binary: Terraform may run it through a symlink
// from .terraform/providers into the mirror, so the link is resolved first.
func schemaFilePath() (string, error) {
	if fromEnv := os.Getenv("VIC_STUB_SCHEMA"); fromEnv != "" {
		return fromEnv, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot locate the executable to find schema.json beside it: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Join(filepath.Dir(exe), "schema.json"), nil
}

type stubProvider struct {
	schemas        *providerSchemas
	schemaResponse *tfprotov6.GetProviderSchemaResponse
	metadata       *tfprotov6.GetMetadataResponse
}

var _ tfprotov6.ProviderServer = (*stubProvider)(nil)

func newStubProvider(schemas *providerSchemas) *stubProvider {
	// The same capabilities as vic's provider (provider/provider.ts), so Terraform takes the same
	// paths for both: get_provider_schema_optional lets it serve later provider starts' schema from
	// its cache, as terraform-plugin-framework providers allow by default.
	capabilities := &tfprotov6.ServerCapabilities{GetProviderSchemaOptional: true}
	metadata := &tfprotov6.GetMetadataResponse{ServerCapabilities: capabilities}
	for _, name := range sortedKeys(schemas.resources) {
		metadata.Resources = append(metadata.Resources, tfprotov6.ResourceMetadata{TypeName: name})
	}
	for _, name := range sortedKeys(schemas.dataSources) {
		metadata.DataSources = append(metadata.DataSources, tfprotov6.DataSourceMetadata{TypeName: name})
	}
	return &stubProvider{
		schemas: schemas,
		schemaResponse: &tfprotov6.GetProviderSchemaResponse{
			ServerCapabilities:       capabilities,
			Provider:                 schemas.provider,
			ResourceSchemas:          schemas.resources,
			DataSourceSchemas:        schemas.dataSources,
			Functions:                map[string]*tfprotov6.Function{},
			EphemeralResourceSchemas: map[string]*tfprotov6.Schema{},
		},
		metadata: metadata,
	}
}

func errorDiagnostic(summary, detail string) []*tfprotov6.Diagnostic {
	return []*tfprotov6.Diagnostic{{Severity: tfprotov6.DiagnosticSeverityError, Summary: summary, Detail: detail}}
}

func unknownTypeDiagnostic(kind, typeName string) []*tfprotov6.Diagnostic {
	return errorDiagnostic(fmt.Sprintf("unknown %s type %q", kind, typeName), "the stub serves the types in its schema.json; regenerate it with scripts/peers/75-stub-provider.sh")
}

func (p *stubProvider) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	return p.metadata, nil
}

func (p *stubProvider) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return p.schemaResponse, nil
}

func (p *stubProvider) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{IdentitySchemas: map[string]*tfprotov6.ResourceIdentitySchema{}}, nil
}

func (p *stubProvider) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config}, nil
}

func (p *stubProvider) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (p *stubProvider) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func (p *stubProvider) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

// UpgradeResourceState decodes the stored JSON against the current type, as every provider must:
// Terraform hands state over as JSON and expects msgpack back.
func (p *stubProvider) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	typ, ok := p.schemas.resourceTypes[req.TypeName]
	if !ok {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: unknownTypeDiagnostic("resource", req.TypeName)}, nil
	}
	if req.RawState == nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: errorDiagnostic("no raw state to upgrade", req.TypeName)}, nil
	}
	state, err := req.RawState.UnmarshalWithOpts(typ, tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: errorDiagnostic("cannot decode the stored state of a "+req.TypeName, err.Error())}, nil
	}
	upgraded, err := tfprotov6.NewDynamicValue(typ, state)
	if err != nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: errorDiagnostic("cannot encode the state of a "+req.TypeName, err.Error())}, nil
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &upgraded}, nil
}

// ReadResource: nothing exists outside Terraform's state, so the state is the truth.
func (p *stubProvider) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

// PlanResourceChange plans what Terraform proposed; only a create has values to learn: the computed
// attributes the configuration leaves null, which the apply will fill.
func (p *stubProvider) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	typ, ok := p.schemas.resourceTypes[req.TypeName]
	if !ok {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: unknownTypeDiagnostic("resource", req.TypeName)}, nil
	}
	creating, err := isNullValue(req.PriorState)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: errorDiagnostic("cannot read the prior state of a "+req.TypeName, err.Error())}, nil
	}
	destroying, err := isNullValue(req.ProposedNewState)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: errorDiagnostic("cannot read the proposed state of a "+req.TypeName, err.Error())}, nil
	}
	if !creating || destroying {
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, nil
	}
	proposed, err := req.ProposedNewState.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: errorDiagnostic("cannot decode the proposed state of a "+req.TypeName, err.Error())}, nil
	}
	planned, err := fillComputedNulls(p.schemas.resources[req.TypeName], typ, proposed, func(_ string, t tftypes.Type) tftypes.Value {
		return tftypes.NewValue(t, tftypes.UnknownValue)
	})
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: errorDiagnostic("cannot plan a "+req.TypeName, err.Error())}, nil
	}
	encoded, err := tfprotov6.NewDynamicValue(typ, planned)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: errorDiagnostic("cannot encode the plan of a "+req.TypeName, err.Error())}, nil
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &encoded}, nil
}

// ApplyResourceChange turns the plan into state: unknowns become fixed values, a delete is null.
func (p *stubProvider) ApplyResourceChange(_ context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	typ, ok := p.schemas.resourceTypes[req.TypeName]
	if !ok {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: unknownTypeDiagnostic("resource", req.TypeName)}, nil
	}
	deleting, err := isNullValue(req.PlannedState)
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: errorDiagnostic("cannot read the planned state of a "+req.TypeName, err.Error())}, nil
	}
	if deleting {
		return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState}, nil
	}
	planned, err := req.PlannedState.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: errorDiagnostic("cannot decode the planned state of a "+req.TypeName, err.Error())}, nil
	}
	if creating, _ := isNullValue(req.PriorState); creating && req.TypeName == "vic_container_vm" {
		if err := doWork(planned); err != nil {
			return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: errorDiagnostic("the benchmark's work for a "+req.TypeName+" failed", err.Error())}, nil
		}
	}
	if planned.IsFullyKnown() {
		return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}, nil
	}
	id := stubID(req.TypeName, planned, req.PlannedState.MsgPack)
	applied, err := tftypes.Transform(planned, func(path *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		if isTopLevelAttribute(path, "id") && v.Type().Is(tftypes.String) {
			return tftypes.NewValue(tftypes.String, id), nil
		}
		return fixedValue(v.Type()), nil
	})
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: errorDiagnostic("cannot apply a "+req.TypeName, err.Error())}, nil
	}
	encoded, err := tfprotov6.NewDynamicValue(typ, applied)
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: errorDiagnostic("cannot encode the new state of a "+req.TypeName, err.Error())}, nil
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: &encoded, Private: req.PlannedPrivate}, nil
}

func (p *stubProvider) ImportResourceState(_ context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return &tfprotov6.ImportResourceStateResponse{Diagnostics: errorDiagnostic(
		fmt.Sprintf("import of %s %q is not supported by the stub", req.TypeName, req.ID),
		"terraform-provider-stub only measures Terraform's own cost in the vic-iac benchmarks; import with the vic-iac/vic provider")}, nil
}

func (p *stubProvider) MoveResourceState(_ context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return &tfprotov6.MoveResourceStateResponse{Diagnostics: errorDiagnostic("moving state into "+req.TargetTypeName+" is not supported by the stub", "")}, nil
}

func (p *stubProvider) UpgradeResourceIdentity(_ context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return &tfprotov6.UpgradeResourceIdentityResponse{Diagnostics: errorDiagnostic(req.TypeName+" has no resource identity in the stub", "")}, nil
}

func (p *stubProvider) GenerateResourceConfig(context.Context, *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return &tfprotov6.GenerateResourceConfigResponse{}, nil
}

func (p *stubProvider) ValidateDataResourceConfig(context.Context, *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return &tfprotov6.ValidateDataResourceConfigResponse{}, nil
}

// ReadDataSource answers with the configuration, its computed nulls filled with fixed values.
func (p *stubProvider) ReadDataSource(_ context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	typ, ok := p.schemas.dataSourceTypes[req.TypeName]
	if !ok {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: unknownTypeDiagnostic("data source", req.TypeName)}, nil
	}
	config, err := req.Config.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: errorDiagnostic("cannot decode the configuration of data source "+req.TypeName, err.Error())}, nil
	}
	id := stubID(req.TypeName, config, req.Config.MsgPack)
	state, err := fillComputedNulls(p.schemas.dataSources[req.TypeName], typ, config, func(name string, t tftypes.Type) tftypes.Value {
		if name == "id" && t.Is(tftypes.String) {
			return tftypes.NewValue(tftypes.String, id)
		}
		return fixedValue(t)
	})
	if err != nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: errorDiagnostic("cannot read data source "+req.TypeName, err.Error())}, nil
	}
	encoded, err := tfprotov6.NewDynamicValue(typ, state)
	if err != nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: errorDiagnostic("cannot encode data source "+req.TypeName, err.Error())}, nil
	}
	return &tfprotov6.ReadDataSourceResponse{State: &encoded}, nil
}

func (p *stubProvider) CallFunction(_ context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	return &tfprotov6.CallFunctionResponse{Error: &tfprotov6.FunctionError{Text: "the stub has no function " + req.Name}}, nil
}

func (p *stubProvider) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{Functions: map[string]*tfprotov6.Function{}}, nil
}

func (p *stubProvider) ValidateEphemeralResourceConfig(context.Context, *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov6.ValidateEphemeralResourceConfigResponse{}, nil
}

func (p *stubProvider) OpenEphemeralResource(_ context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: errorDiagnostic("the stub has no ephemeral resource "+req.TypeName, "")}, nil
}

func (p *stubProvider) RenewEphemeralResource(context.Context, *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return &tfprotov6.RenewEphemeralResourceResponse{}, nil
}

func (p *stubProvider) CloseEphemeralResource(context.Context, *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return &tfprotov6.CloseEphemeralResourceResponse{}, nil
}

func isNullValue(v *tfprotov6.DynamicValue) (bool, error) {
	if v == nil {
		return true, nil
	}
	return v.IsNull()
}

// fillComputedNulls replaces every top-level computed attribute that is null in `value` with
// `fill(name, type)`. vic's schema has computed attributes at the top level only.
func fillComputedNulls(schema *tfprotov6.Schema, typ tftypes.Type, value tftypes.Value, fill func(name string, t tftypes.Type) tftypes.Value) (tftypes.Value, error) {
	attributes := map[string]tftypes.Value{}
	if err := value.As(&attributes); err != nil {
		return value, err
	}
	for _, attr := range schema.Block.Attributes {
		if !attr.Computed {
			continue
		}
		if current, ok := attributes[attr.Name]; ok && current.IsNull() {
			attributes[attr.Name] = fill(attr.Name, attr.ValueType())
		}
	}
	return tftypes.NewValue(typ, attributes), nil
}

// fixedValue is what an unknown becomes on apply: the zero of its type, so a second plan sees
// exactly the same state. Objects, tuples and dynamic values become null.
func fixedValue(t tftypes.Type) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, "")
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, new(big.Float))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, false)
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		return tftypes.NewValue(t, []tftypes.Value{})
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, map[string]tftypes.Value{})
	default:
		return tftypes.NewValue(t, nil)
	}
}

// stubID is "stub-<type>-<name>" when the resource has a known name, else "stub-<type>-<hash>" of
// the encoded value, so the same configuration always gets the same id.
func stubID(typeName string, value tftypes.Value, encoded []byte) string {
	attributes := map[string]tftypes.Value{}
	if err := value.As(&attributes); err == nil {
		if name, ok := attributes["name"]; ok && name.IsKnown() && !name.IsNull() && name.Type().Is(tftypes.String) {
			var s string
			if err := name.As(&s); err == nil && s != "" {
				return "stub-" + typeName + "-" + s
			}
		}
	}
	sum := sha256.Sum256(encoded)
	return "stub-" + typeName + "-" + hex.EncodeToString(sum[:6])
}

func isTopLevelAttribute(path *tftypes.AttributePath, name string) bool {
	steps := path.Steps()
	if len(steps) != 1 {
		return false
	}
	step, ok := steps[0].(tftypes.AttributeName)
	return ok && string(step) == name
}

var workClient = &http.Client{}

// doWork has the harness at VIC_STUB_WORK_URL (when set) do the vSphere work of one container VM,
// named by the planned `name`, and waits for it.
func doWork(planned tftypes.Value) error {
	url := os.Getenv("VIC_STUB_WORK_URL")
	if url == "" {
		return nil
	}
	var attrs map[string]tftypes.Value
	if err := planned.As(&attrs); err != nil {
		return err
	}
	var name string
	if err := attrs["name"].As(&name); err != nil {
		return fmt.Errorf("the planned name: %w", err)
	}
	res, err := workClient.Post(url, "text/plain", strings.NewReader(name))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, res.Status, body)
	}
	return nil
}
