import * as assert from "assert";
import { canonicalJson, sha256Hex } from "../../platforms/digest";

describe("platforms/digest", () => {
    it("canonical JSON ignores key order and undefined members, keeps array order", () => {
        assert.strictEqual(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } }), canonicalJson({ a: { d: [2, 1] }, b: 1 }));
        assert.notStrictEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
        assert.strictEqual(canonicalJson({ b: "x", a: null }), '{"a":null,"b":"x"}');
    });

    it("sha256 of text", () => {
        assert.strictEqual(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    });
});
