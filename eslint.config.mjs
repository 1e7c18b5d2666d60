// ESLint: typescript-eslint's recommended rules and Pulumi's (no Output in template literals).
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["**/node_modules/", "bin/", "build/", "dist/", ".rootfs/", "examples/*/bin/", "eslint.config.mjs"] },
    ...tseslint.configs.recommended,
    {
        plugins: { "@pulumi": pulumi },
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-explicit-any": "error",
            // `const { secret, ...rest } = props` drops a property on purpose.
            "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
            // Provider code requires node modules inside functions: the closure serializer captures
            // them as require("name") there, and only there.
            "@typescript-eslint/no-require-imports": "off",
        },
    },
);
