package main

// Reads a `terraform providers schema -json`-shaped file into the tfprotov6 schemas the stub serves,
// so the stub carries exactly vic's attributes, types, flags and descriptions: Terraform's cost per
// attribute (msgpack, cty, plan checks) is then the same as for the real provider.

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

type schemaFile struct {
	ProviderSchemas map[string]providerSchemaJSON `json:"provider_schemas"`
}

type providerSchemaJSON struct {
	Provider          schemaJSON            `json:"provider"`
	ResourceSchemas   map[string]schemaJSON `json:"resource_schemas"`
	DataSourceSchemas map[string]schemaJSON `json:"data_source_schemas"`
}

type schemaJSON struct {
	Version int64     `json:"version"`
	Block   blockJSON `json:"block"`
}

type blockJSON struct {
	Attributes      map[string]attributeJSON   `json:"attributes"`
	BlockTypes      map[string]nestedBlockJSON `json:"block_types"`
	Description     string                     `json:"description"`
	DescriptionKind string                     `json:"description_kind"`
	Deprecated      bool                       `json:"deprecated"`
}

type attributeJSON struct {
	Type            json.RawMessage `json:"type"`
	NestedType      *nestedTypeJSON `json:"nested_type"`
	Description     string          `json:"description"`
	DescriptionKind string          `json:"description_kind"`
	Required        bool            `json:"required"`
	Optional        bool            `json:"optional"`
	Computed        bool            `json:"computed"`
	Sensitive       bool            `json:"sensitive"`
	Deprecated      bool            `json:"deprecated"`
	WriteOnly       bool            `json:"write_only"`
}

type nestedTypeJSON struct {
	Attributes  map[string]attributeJSON `json:"attributes"`
	NestingMode string                   `json:"nesting_mode"`
}

type nestedBlockJSON struct {
	NestingMode string    `json:"nesting_mode"`
	Block       blockJSON `json:"block"`
	MinItems    int64     `json:"min_items"`
	MaxItems    int64     `json:"max_items"`
}

// providerSchemas is what the stub serves: the provider config schema and one schema per type name.
type providerSchemas struct {
	provider    *tfprotov6.Schema
	resources   map[string]*tfprotov6.Schema
	dataSources map[string]*tfprotov6.Schema
	// valueTypes caches each type's object type: every request decodes against it.
	resourceTypes   map[string]tftypes.Type
	dataSourceTypes map[string]tftypes.Type
}

// loadSchemas reads the entry for `address` (e.g. registry.terraform.io/vic-iac/vic) from `path`.
func loadSchemas(path, address string) (*providerSchemas, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the schema file %s: %w (scripts/peers/75-stub-provider.sh writes it next to the binary)", path, err)
	}
	var file schemaFile
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("parse the schema file %s: %w", path, err)
	}
	entry, ok := file.ProviderSchemas[address]
	if !ok {
		known := make([]string, 0, len(file.ProviderSchemas))
		for name := range file.ProviderSchemas {
			known = append(known, name)
		}
		return nil, fmt.Errorf("the schema file %s has no provider %q (known: %v)", path, address, known)
	}
	provider, err := convertSchema(entry.Provider)
	if err != nil {
		return nil, fmt.Errorf("provider schema: %w", err)
	}
	out := &providerSchemas{
		provider:        provider,
		resources:       map[string]*tfprotov6.Schema{},
		dataSources:     map[string]*tfprotov6.Schema{},
		resourceTypes:   map[string]tftypes.Type{},
		dataSourceTypes: map[string]tftypes.Type{},
	}
	for name, s := range entry.ResourceSchemas {
		converted, err := convertSchema(s)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", name, err)
		}
		out.resources[name] = converted
		out.resourceTypes[name] = converted.ValueType()
	}
	for name, s := range entry.DataSourceSchemas {
		converted, err := convertSchema(s)
		if err != nil {
			return nil, fmt.Errorf("data source %s: %w", name, err)
		}
		out.dataSources[name] = converted
		out.dataSourceTypes[name] = converted.ValueType()
	}
	return out, nil
}

func convertSchema(s schemaJSON) (*tfprotov6.Schema, error) {
	block, err := convertBlock(s.Block)
	if err != nil {
		return nil, err
	}
	return &tfprotov6.Schema{Version: s.Version, Block: block}, nil
}

func convertBlock(b blockJSON) (*tfprotov6.SchemaBlock, error) {
	attributes, err := convertAttributes(b.Attributes)
	if err != nil {
		return nil, err
	}
	out := &tfprotov6.SchemaBlock{
		Attributes:      attributes,
		Description:     b.Description,
		DescriptionKind: descriptionKind(b.DescriptionKind),
		Deprecated:      b.Deprecated,
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		nested := b.BlockTypes[name]
		block, err := convertBlock(nested.Block)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", name, err)
		}
		nesting, ok := blockNesting[nested.NestingMode]
		if !ok {
			return nil, fmt.Errorf("block %s: unknown nesting_mode %q", name, nested.NestingMode)
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov6.SchemaNestedBlock{
			TypeName: name,
			Block:    block,
			Nesting:  nesting,
			MinItems: nested.MinItems,
			MaxItems: nested.MaxItems,
		})
	}
	return out, nil
}

func convertAttributes(attributes map[string]attributeJSON) ([]*tfprotov6.SchemaAttribute, error) {
	var out []*tfprotov6.SchemaAttribute
	// Sorted so the schema is byte-for-byte the same at every start.
	for _, name := range sortedKeys(attributes) {
		a := attributes[name]
		attr := &tfprotov6.SchemaAttribute{
			Name:            name,
			Description:     a.Description,
			DescriptionKind: descriptionKind(a.DescriptionKind),
			Required:        a.Required,
			Optional:        a.Optional,
			Computed:        a.Computed,
			Sensitive:       a.Sensitive,
			Deprecated:      a.Deprecated,
			WriteOnly:       a.WriteOnly,
		}
		switch {
		case a.NestedType != nil:
			nestedAttributes, err := convertAttributes(a.NestedType.Attributes)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", name, err)
			}
			nesting, ok := objectNesting[a.NestedType.NestingMode]
			if !ok {
				return nil, fmt.Errorf("attribute %s: unknown nesting_mode %q", name, a.NestedType.NestingMode)
			}
			attr.NestedType = &tfprotov6.SchemaObject{Attributes: nestedAttributes, Nesting: nesting}
		case len(a.Type) > 0:
			typ, err := tftypes.ParseJSONType(a.Type) //nolint:staticcheck // the cty JSON type syntax is exactly what the file holds
			if err != nil {
				return nil, fmt.Errorf("attribute %s: type %s: %w", name, a.Type, err)
			}
			attr.Type = typ
		default:
			return nil, fmt.Errorf("attribute %s has neither type nor nested_type", name)
		}
		out = append(out, attr)
	}
	return out, nil
}

var blockNesting = map[string]tfprotov6.SchemaNestedBlockNestingMode{
	"single": tfprotov6.SchemaNestedBlockNestingModeSingle,
	"list":   tfprotov6.SchemaNestedBlockNestingModeList,
	"set":    tfprotov6.SchemaNestedBlockNestingModeSet,
	"map":    tfprotov6.SchemaNestedBlockNestingModeMap,
	"group":  tfprotov6.SchemaNestedBlockNestingModeGroup,
}

var objectNesting = map[string]tfprotov6.SchemaObjectNestingMode{
	"single": tfprotov6.SchemaObjectNestingModeSingle,
	"list":   tfprotov6.SchemaObjectNestingModeList,
	"set":    tfprotov6.SchemaObjectNestingModeSet,
	"map":    tfprotov6.SchemaObjectNestingModeMap,
}

func descriptionKind(kind string) tfprotov6.StringKind {
	if kind == "markdown" {
		return tfprotov6.StringKindMarkdown
	}
	return tfprotov6.StringKindPlain
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
