// Built with `--features ring`; see ../lib.rs.
fn main() -> std::io::Result<()> {
    sframe_rfc9605_shim::main()
}
