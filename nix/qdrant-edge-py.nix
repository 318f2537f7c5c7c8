# qdrant-edge-py (the Qdrant engine embedded in Python) is not in nixpkgs: install its published abi3
# wheels, pinned by hash, and patch the Linux extension to find its libraries in the store.
{
  lib,
  stdenv,
  buildPythonPackage,
  fetchurl,
  autoPatchelfHook,
  python,
}:
let
  version = "0.9.0";
  wheels = {
    x86_64-linux = {
      url = "https://files.pythonhosted.org/packages/30/75/0aa96e41a9e8c0e7c054e940d815ef53d7c9d0c71ce4d350ac65102eac3b/qdrant_edge_py-${version}-cp310-abi3-manylinux_2_28_x86_64.whl";
      hash = "sha256-e8c06kk9H5LmuK90vGjE+QOyypBZP4mc0bmYzRJ0TaQ=";
    };
    aarch64-linux = {
      url = "https://files.pythonhosted.org/packages/38/b8/0e69f881da00d699483fa6d2dec19db682bbeb78706615a4d4b545397321/qdrant_edge_py-${version}-cp310-abi3-manylinux_2_28_aarch64.whl";
      hash = "sha256-ooXWVe4GXUu6gcY4l3CYoTejxhTN//xMw5dPSF9ysfI=";
    };
    x86_64-darwin = {
      url = "https://files.pythonhosted.org/packages/39/8c/e059cdf79b9d3e2f797a6af13f1a22cb21ce5f39013d884e3835de5076de/qdrant_edge_py-${version}-cp310-abi3-macosx_10_12_x86_64.whl";
      hash = "sha256-1rEfNkVUUKQhXXtSjM5EvozRm/n5dHOMhkYylntTb1E=";
    };
    aarch64-darwin = {
      url = "https://files.pythonhosted.org/packages/3b/40/54627eff9afffff3bf918b8af0319cbede0eff0205a436c173eee0094002/qdrant_edge_py-${version}-cp310-abi3-macosx_11_0_arm64.whl";
      hash = "sha256-dQBlH6hVRiyWFJpQHaxBh62ec6kakwbvIPgnlp806o4=";
    };
  };
  system = stdenv.hostPlatform.system;
in
buildPythonPackage {
  pname = "qdrant-edge-py";
  inherit version;
  format = "wheel";

  src = fetchurl (wheels.${system} or (throw "qdrant-edge-py: no published wheel for ${system}"));

  nativeBuildInputs = lib.optionals stdenv.hostPlatform.isLinux [ autoPatchelfHook ];
  # The extension links libgcc_s besides glibc.
  buildInputs = lib.optionals stdenv.hostPlatform.isLinux [ stdenv.cc.cc.lib ];

  # The wheel also drops a stray py.typed at the top of site-packages, which would collide with any
  # other package doing the same inside one Python environment.
  postInstall = ''
    rm -f "$out/${python.sitePackages}/py.typed"
  '';

  pythonImportsCheck = [ "qdrant_edge" ];

  meta = {
    description = "Qdrant vector search engine embedded in the Python process";
    homepage = "https://qdrant.tech/edge/";
    license = lib.licenses.asl20;
    sourceProvenance = [ lib.sourceTypes.binaryNativeCode ];
    platforms = builtins.attrNames wheels;
  };
}
