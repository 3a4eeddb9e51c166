"""The Amazon channel connector's shared package: domain, shipping mapper, SKU checks, stock rules,
repositories, the SP-API client, settings and observability. Deployed as the common Lambda layer."""
