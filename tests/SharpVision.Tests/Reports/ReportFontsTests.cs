using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class ReportFontsTests
{
    [Fact]
    public void A_font_with_real_glyphs_is_resolved_for_plots()
    {
        // Given this machine's fonts; When reports resolve theirs; Then it draws Latin text and ScottPlot uses it.
        ReportFonts.Ensure();
        Assert.Null(ReportFonts.Warning);
        Assert.True(ReportFonts.HasGlyphs(ReportFonts.Typeface));
        Assert.Equal(ReportFonts.Family, ScottPlot.Fonts.Default);
    }

    [Fact]
    public void Fallback_search_finds_a_ttf_file_when_folders_hold_one()
    {
        var found = ReportFonts.FindFontFile(ReportFonts.FontFolders);
        Assert.NotNull(found);
        Assert.True(ReportFonts.HasGlyphs(SkiaSharp.SKTypeface.FromFile(found)));
        Assert.Null(ReportFonts.FindFontFile([Path.Combine(Path.GetTempPath(), "no-such-font-dir")]));
    }
}
