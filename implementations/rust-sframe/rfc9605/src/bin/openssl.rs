// Built with `--features openssl`; see ../lib.rs.
fn main() -> std::io::Result<()> {
    sframe_rfc9605_shim::main()
}
