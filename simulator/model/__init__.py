"""Object models: YAML meter types, validated into immutable specs shared by every meter."""
