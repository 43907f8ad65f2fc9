using SharpVision.Augmentation;

namespace SharpVision.Tests.Augmentation;

public class AugmentOptionsTests
{
    [Fact]
    public void Parse_reads_keras_names_and_ranges()
    {
        AugmentOptions o = AugmentOptions.Parse(
            "rotation_range=40, zoom_range=0.2,horizontal_flip=true,brightness_range=0.8:1.2,width_shift_range=0.1,"
            + "height_shift_range=5,shear_range=12.5,fill_mode=reflect,cval=9,rescale=1/255,mean=0.5:0.4:0.3,std=0.25,vertical_flip=false");

        Assert.Equal(40, o.RotationRange);
        Assert.Equal(0.8, o.ZoomRange.Lo, 12);
        Assert.Equal(1.2, o.ZoomRange.Hi, 12);
        Assert.True(o.HorizontalFlip);
        Assert.False(o.VerticalFlip);
        Assert.Equal((0.8, 1.2), o.BrightnessRange);
        Assert.Equal(0.1, o.WidthShiftRange);
        Assert.Equal(5, o.HeightShiftRange);
        Assert.Equal(12.5, o.ShearRange);
        Assert.Equal(FillMode.Reflect, o.FillMode);
        Assert.Equal(9, o.Cval);
        Assert.Equal(1f / 255f, o.Rescale);
        Assert.Equal(new[] { 0.5f, 0.4f, 0.3f }, o.Mean);
        Assert.Equal(new[] { 0.25f }, o.Std);
        Assert.False(o.IsIdentity);
    }

    [Fact]
    public void Zoom_pair_is_taken_as_lo_hi()
    {
        Assert.Equal((0.5, 1.5), AugmentOptions.Parse("zoom_range=0.5:1.5").ZoomRange);
    }

    [Fact]
    public void Empty_spec_is_identity_and_round_trips_to_empty()
    {
        AugmentOptions o = AugmentOptions.Parse("");
        Assert.True(o.IsIdentity);
        Assert.Equal("", o.ToSpec());
    }

    [Fact]
    public void ToSpec_round_trips_through_Parse()
    {
        const string spec = "rescale=0.5,rotation_range=40,width_shift_range=0.1,height_shift_range=0.2,shear_range=10,"
            + "zoom_range=0.8:1.2,horizontal_flip=true,vertical_flip=true,brightness_range=0.8:1.2,fill_mode=wrap,cval=3,"
            + "mean=0.5:0.5:0.5,std=0.2:0.3:0.4";
        AugmentOptions o = AugmentOptions.Parse(spec);

        Assert.Equal(spec, o.ToSpec());
        Assert.Equal(o, AugmentOptions.Parse(o.ToString()));
    }

    [Theory]
    [InlineData("rotaton_range=40", "AugmentOptions.Augment key must be one of rescale, rotation_range", "Received: AugmentOptions.Augment key=rotaton_range")]
    [InlineData("rotation_range=abc", "AugmentOptions.Augment rotation_range must be a number of degrees >= 0", "Received: AugmentOptions.Augment rotation_range=abc")]
    [InlineData("rotation_range=-5", "AugmentOptions.Augment rotation_range must be", "Received: AugmentOptions.Augment rotation_range=-5")]
    [InlineData("width_shift_range=-0.1", "AugmentOptions.Augment width_shift_range must be", "=-0.1")]
    [InlineData("fill_mode=mirror", "AugmentOptions.Augment fill_mode must be one of nearest, constant, reflect, wrap", "Received: AugmentOptions.Augment fill_mode=mirror")]
    [InlineData("brightness_range=1.2:0.8", "AugmentOptions.Augment brightness_range must be a range lo:hi with 0 <= lo <= hi", "Received: AugmentOptions.Augment brightness_range=1.2:0.8")]
    [InlineData("brightness_range=0.9", "AugmentOptions.Augment brightness_range must be", "=0.9")]
    [InlineData("zoom_range=1.5:0.5", "AugmentOptions.Augment zoom_range must be", "=1.5:0.5")]
    [InlineData("horizontal_flip=maybe", "AugmentOptions.Augment horizontal_flip must be true or false", "=maybe")]
    [InlineData("std=0:1:1", "AugmentOptions.Augment std must be 1 or 3 numbers > 0", "=0:1:1")]
    [InlineData("rotation_range", "AugmentOptions.Augment must be a comma-separated list of key=value pairs", "Received: AugmentOptions.Augment=rotation_range")]
    [InlineData("shear_range=5,shear_range=6", "AugmentOptions.Augment shear_range must be given once", "6 (repeated)")]
    public void Parse_errors_name_the_option_the_expected_form_and_what_was_received(string spec, string start, string received)
    {
        var e = Assert.Throws<InvalidOptionException>(() => AugmentOptions.Parse(spec));
        Assert.StartsWith(start, e.Message);
        Assert.Contains(received, e.Message);
    }

    [Fact]
    public void FromYamlFile_reads_keras_keys_with_lists_for_ranges()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sv-augment-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "rotation_range: 20\nzoom_range: [0.9, 1.3]\nhorizontal_flip: true\nbrightness_range: [0.7, 1.1]\nfill_mode: constant\ncval: 128\n");
        try
        {
            AugmentOptions o = AugmentOptions.FromYamlFile(path);

            Assert.Equal(AugmentOptions.Parse("rotation_range=20,zoom_range=0.9:1.3,horizontal_flip=true,brightness_range=0.7:1.1,fill_mode=constant,cval=128"), o);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromYamlFile_rejects_a_bad_value_naming_the_key()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sv-augment-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "fill_mode: mirror\n");
        try
        {
            var e = Assert.Throws<InvalidOptionException>(() => AugmentOptions.FromYamlFile(path));
            Assert.Equal("AugmentOptions.Augment fill_mode", e.Option);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
