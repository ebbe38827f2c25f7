// pulumi-resource-kubernetes built from the provider's Go module.
//
// The module's own main embeds schema-embed.json and terraform-mapping-embed.json, which
// `go generate` writes and module zips lack; build.sh copies the module's committed
// schema.json and terraform-mapping.json beside this file and stamps the version, as
// upstream's generate.go does.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
