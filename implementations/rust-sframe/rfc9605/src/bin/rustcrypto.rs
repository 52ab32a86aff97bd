// Built with `--features rust-crypto`; see ../lib.rs.
fn main() -> std::io::Result<()> {
    sframe_rfc9605_shim::main()
}
