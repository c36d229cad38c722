"""Reports as PDFs and web pages (SPEC 4): each module gathers its figures and renders them."""
