// pulumi-python-sdkgen writes the Python SDK of a Pulumi package schema, with Pulumi's own Python
// code generator (github.com/pulumi/pulumi/pkg/v3/codegen/python), the one `pulumi package gen-sdk
// --language python` runs inside pulumi-language-python. It exists because the Python language host
// the Go module proxy serves (sdk/v3 v3.68.0, see scripts/peers/65-pulumi-languages.sh) predates the
// GeneratePackage call gen-sdk makes; with a released Pulumi install, use gen-sdk instead.
//
//	pulumi-python-sdkgen <schema.json> <out-dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-python-sdkgen <schema.json> <out-dir>")
		os.Exit(2)
	}
	if err := generate(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-python-sdkgen: %v\n", err)
		os.Exit(1)
	}
}

func generate(schemaPath, out string) error {
	text, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return fmt.Errorf("%s is not a package schema: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s: %v", schemaPath, diags)
	}
	files, err := python.GeneratePackage("pulumi-python-sdkgen", pkg, nil, nil)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
